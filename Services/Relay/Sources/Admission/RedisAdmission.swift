import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import Logging
import Metrics
import Synchronization

/// Global fair-share admission through Redis (DESIGN §5.1): leases in a per-deployment sorted set, waiters ranked by
/// `U / share` across every relay, TPM buckets and decayed usage — all claimed by one script per attempt, timed by
/// Redis. The uncontended path is one round trip — none when this relay has an idle slot of the deployment
/// (``SlotPool``).
public struct RedisAdmission: Sendable {
    public let redis: RedisClient
    public let view: FairShareView
    public let wakeups: AdmissionWakeups
    public let renewer: LeaseRenewer
    public let settings: AdmissionSettings
    let metrics: AdmissionMetrics
    let logger: Logger
    /// Releases still on their way to Redis (waited for at shutdown).
    let pendingReleases = PendingReleases()
    let pool: SlotPool

    public init(
        redis: RedisClient, view: FairShareView, wakeups: AdmissionWakeups, renewer: LeaseRenewer,
        settings: AdmissionSettings, metrics: AdmissionMetrics, logger: Logger
    ) {
        self.redis = redis
        self.view = view
        self.wakeups = wakeups
        self.renewer = renewer
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        pool = SlotPool(settings: settings.slotPool)
    }

    enum Failure: Error {
        case refused(AdmissionRefusal)
        case redis(RedisError)
    }

    func acquire(_ request: AdmissionRequest) async throws(Failure) -> any AdmissionTicket {
        let started = ContinuousClock.now
        let deployment = request.deployment.id
        let poolable = pool.accepts(request)
        if poolable, var slot = pool.take(for: request) {
            slot.owner = request
            metrics.pooled.increment()
            metrics.admitted(deployment: deployment, tenant: request.tenant.id, queued: .zero)
            return RedisTicket(admission: self, held: .init(slot: slot, charged: nil, poolable: true), queued: .zero)
        }
        var waiter = WaiterMachine(now: started, queueTimeout: settings.queueTimeout, pollInterval: settings.pollInterval)
        var acquire = AcquireRequest(request, lease: Self.leaseID(request), share: 0, settings: settings)
        let keys = acquire.keys
        while true {
            acquire.share = view.share(tenant: request.tenant.id)
            let reply: AcquireReply
            do {
                reply = AcquireReply(try await redis.evaluate(AdmissionScripts.acquire, keys: keys, arguments: acquire.arguments(register: true)))
            } catch {
                if waiter.waiting { metrics.leftQueue(deployment) }
                throw .redis(error)
            }
            if reply != .wait && reply != .queueFull && waiter.waiting { metrics.leftQueue(deployment) }
            switch reply {
            case .admitted(_, let charged, let epoch):
                let queued = ContinuousClock.now - started
                metrics.admitted(deployment: deployment, tenant: request.tenant.id, queued: queued)
                let lease = LeaseRenewer.Lease(id: acquire.lease, deploymentSlots: keys[0], tenantSlots: keys[3])
                renewer.add(lease)
                let slot = SlotPoolState.Slot(lease: lease, granted: .now, owner: request)
                return RedisTicket(admission: self, held: .init(slot: slot, charged: (charged, epoch), poolable: poolable), queued: queued)
            case .queueFull:
                metrics.rejected(.queueFull)
                throw .refused(.capacityExceeded(retryAfterSeconds: 1))
            case .overQuota(let retryAfter):
                metrics.rejected(.quota)
                throw .refused(.quotaExceeded(retryAfterSeconds: retryAfter))
            case .noHeadroom(let retryAfter):
                metrics.rejected(.upstreamLimit)
                throw .refused(.noHeadroom(retryAfterSeconds: retryAfter))
            case .malformed:
                throw .redis(.unexpectedReply("the acquire script answered something unexpected"))
            case .wait:
                giveBack(pool.contended(deployment))
            }
            switch waiter.afterWait(now: .now, abandoned: request.abandoned) {
            case .sleep(let timeout, let joined):
                if joined { metrics.joinedQueue(deployment) }
                await wakeups.wait(for: deployment, timeout: timeout)
            case .giveUp(let refusal):
                _ = try? await redis.evaluate(
                    AdmissionScripts.leave, keys: [keys[1], keys[2], keys[0], keys[3], keys[10]],
                    arguments: [acquire.lease, FairShareKeys.wakeChannel, deployment.lowercaseText]
                )
                if waiter.waiting { metrics.leftQueue(deployment) }
                metrics.rejected(refusal == .cancelled ? .cancelled : .queueTimeout)
                throw .refused(refusal)
            }
        }
    }

    /// Arrival time first, so equal priorities are served in arrival order; unique per attempt: the request id is
    /// unique across relays, the attempt number within this process.
    static func leaseID(_ request: AdmissionRequest) -> String {
        let arrival = String(UnixClock.microseconds())
        let attempt = attempts.wrappingAdd(1, ordering: .relaxed).oldValue
        return String(repeating: "0", count: max(0, 17 - arrival.count)) + arrival + ":" + request.requestID.lowercaseText
            + "." + String(attempt, radix: 36)
    }

    private static let attempts = Atomic<UInt64>(0)

    /// Slots the pool let go of, back to Redis (which hands them to the best waiters) with no usage of their own: the
    /// usage of the requests they served is in the pool's ledger.
    func giveBack(_ slots: [SlotPoolState.Slot]) {
        for slot in slots {
            let held = RedisTicket.Held(slot: slot, charged: nil, poolable: false)
            pendingReleases.run { await release(held, actualTokens: 0) }
        }
    }

    func release(_ ticket: RedisTicket.Held, actualTokens: Int64?) async {
        let request = ticket.request
        let actual = actualTokens ?? 0
        let actualCost = Double(actual) * request.deployment.admissionWeight
        renewer.remove(ticket.lease)
        do {
            _ = try await redis.evaluate(AdmissionScripts.release, keys: [
                ticket.lease.deploymentSlots, ticket.lease.tenantSlots, FairShareKeys.tokens(tenant: request.tenant.id),
                FairShareKeys.usage, FairShareKeys.epoch, FairShareKeys.waiting(deployment: request.deployment.id),
                FairShareKeys.waiterExpiry(deployment: request.deployment.id), FairShareKeys.tokenBucket(deployment: request.deployment.id),
                FairShareKeys.waiterTenants(deployment: request.deployment.id),
            ], arguments: [
                ticket.lease.id, request.tenant.id.lowercaseText, Int(request.estimatedTokens), Int(actual),
                Int(request.tenant.tokensPerMinute), ticket.charged?.amount ?? "0", String(settings.halfLife),
                FairShareKeys.wakeChannel, request.deployment.id.lowercaseText, request.deployment.maxConcurrency ?? 0,
                settings.claimTTL.milliseconds, Int(request.deployment.tpmLimit ?? 0),
                ticket.charged?.epoch ?? "0", actualCost,
            ])
        } catch {
            // The lease expires on its own within its TTL; the usage correction is lost, which only skews priority.
            logger.warning("Releasing a slot failed; it expires with its lease", metadata: ["error": "\(error)"])
        }
    }
}

/// A slot held in Redis. Released once however many times `release` is called — to Redis, or into this relay's pool
/// when nobody waits for it — and by itself, to Redis, if it is dropped unreleased (a path that lost it cannot leak
/// the slot, nor keep ``LeaseRenewer`` renewing it).
final class RedisTicket: AdmissionTicket {
    /// What the release script needs.
    struct Held: Sendable {
        var slot: SlotPoolState.Slot
        /// The usage increment the acquire script added, and the epoch it was computed under (Redis's own text); none
        /// for a slot taken from the pool.
        var charged: (amount: String, epoch: String)?
        /// Whether the slot may idle in the pool afterwards (``SlotPool/accepts(_:)``).
        var poolable: Bool

        var lease: LeaseRenewer.Lease { slot.lease }
        var request: AdmissionRequest { slot.owner }
    }

    let admission: RedisAdmission
    let held: Held
    let queued: Duration
    private let released = Atomic<Bool>(false)

    init(admission: RedisAdmission, held: Held, queued: Duration) {
        self.admission = admission
        self.held = held
        self.queued = queued
    }

    func release(actualTokens: Int64?) async {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let (admission, held) = (self.admission, self.held)
        admission.metrics.released(held.request.deployment.id)
        if held.poolable {
            let cost = Double(actualTokens ?? 0) * held.request.deployment.admissionWeight
            guard admission.pool.finish(held.slot, cost: cost, charged: held.charged) == .release else { return }
            admission.giveBack([held.slot])
            return
        }
        // In a task of its own: a cancelled request must still give its slot back.
        let release = admission.pendingReleases.run { await admission.release(held, actualTokens: actualTokens) }
        // A tenant with a TPM quota must see its refund before its answer arrives (its next request reads the bucket);
        // otherwise the answer does not wait for the slot's return trip to Redis.
        if held.request.tenant.tokensPerMinute > 0 { await release.value }
    }

    deinit {
        guard !released.load(ordering: .acquiring) else { return }
        let (admission, held) = (self.admission, self.held)
        admission.metrics.released(held.request.deployment.id)
        admission.pendingReleases.run { await admission.release(held, actualTokens: nil) }
    }
}
