import FairShare
import Foundation
import Synchronization

/// Admission on this relay's own state, used while Redis is unreachable (DESIGN §5.1): the same rules — capacity,
/// tenant caps, TPM buckets, priority order of waiters — with each global limit divided by the expected number of
/// relays, so the fleet as a whole stays close to the real limits.
public final class LocalAdmission: Sendable {
    private struct Waiter: Sendable {
        var priority: Double
        var arrival: UInt64
    }

    private struct State: Sendable {
        var inFlight: [UUID: Int] = [:]
        var tenantInFlight: [UUID: Int] = [:]
        var waiters: [UUID: [String: Waiter]] = [:]
        var buckets: [UUID: TokenBucket] = [:]
        var arrivals: UInt64 = 0
    }

    private let state = Mutex(State())
    let view: FairShareView
    let wakeups: AdmissionWakeups
    let settings: AdmissionSettings
    let metrics: AdmissionMetrics

    public init(view: FairShareView, wakeups: AdmissionWakeups, settings: AdmissionSettings, metrics: AdmissionMetrics) {
        self.view = view
        self.wakeups = wakeups
        self.settings = settings
        self.metrics = metrics
    }

    func localLimit(_ limit: Int?) -> Int? {
        limit.map { max(1, Int((Double($0) / Double(max(1, settings.replicasHint))).rounded(.up))) }
    }

    private enum Attempt {
        case admitted
        case wait
        case queueFull
        case quota(Int)
    }

    func acquire(_ request: AdmissionRequest) async throws(AdmissionRefusal) -> any AdmissionTicket {
        let started = ContinuousClock.now
        var waiter = WaiterMachine(now: started, queueTimeout: settings.queueTimeout, pollInterval: settings.pollInterval)
        let id = UUID().lowercaseText
        let deployment = request.deployment.id
        let capacity = localLimit(request.deployment.maxConcurrency)
        let tenantCap = localLimit(request.tenant.maxConcurrency)
        let tpm = request.tenant.tokensPerMinute > 0 ? Double(request.tenant.tokensPerMinute) / Double(max(1, settings.replicasHint)) : 0
        while true {
            let priority = view.priority(tenant: request.tenant.id)
            let now = Date().timeIntervalSince1970
            let attempt = state.withLock { state -> Attempt in
                if let tenantCap, state.tenantInFlight[request.tenant.id, default: 0] >= tenantCap {
                    state.waiters[deployment]?[id] = nil
                    return .wait
                }
                let inFlight = state.inFlight[deployment, default: 0]
                var admit = capacity == nil
                if let capacity, capacity > inFlight {
                    var queue = state.waiters[deployment] ?? [:]
                    let mine = queue[id] ?? Waiter(priority: priority, arrival: state.arrivals + 1)
                    queue[id] = Waiter(priority: priority, arrival: mine.arrival)
                    let ahead = queue.filter { $0.key != id && ($0.value.priority, $0.value.arrival) < (priority, mine.arrival) }.count
                    admit = ahead < capacity - inFlight
                }
                if admit {
                    if tpm > 0 {
                        var bucket = state.buckets[request.tenant.id] ?? TokenBucket(capacity: tpm, now: now)
                        if let wait = bucket.reserve(Double(request.estimatedTokens), now: now) {
                            state.waiters[deployment]?[id] = nil
                            return .quota(max(1, Int(wait.rounded(.up))))
                        }
                        state.buckets[request.tenant.id] = bucket
                    }
                    state.inFlight[deployment, default: 0] += 1
                    state.tenantInFlight[request.tenant.id, default: 0] += 1
                    state.waiters[deployment]?[id] = nil
                    return .admitted
                }
                if state.waiters[deployment]?[id] == nil {
                    if (state.waiters[deployment]?.count ?? 0) >= settings.maxQueueLength { return .queueFull }
                    state.arrivals += 1
                    state.waiters[deployment, default: [:]][id] = Waiter(priority: priority, arrival: state.arrivals)
                }
                return .wait
            }
            switch attempt {
            case .admitted:
                let queued = ContinuousClock.now - started
                metrics.admitted(deployment: deployment, tenant: request.tenant.id, queued: queued)
                return LocalTicket(admission: self, request: request, queued: queued)
            case .queueFull:
                metrics.rejected(.queueFull)
                throw .capacityExceeded(retryAfterSeconds: 1)
            case .quota(let seconds):
                metrics.rejected(.quota)
                throw .quotaExceeded(retryAfterSeconds: seconds)
            case .wait:
                break
            }
            switch waiter.afterWait(now: .now, abandoned: request.abandoned) {
            case .sleep(let timeout, _):
                await wakeups.wait(for: deployment, timeout: timeout)
            case .giveUp(let refusal):
                state.withLock { _ = $0.waiters[deployment]?.removeValue(forKey: id) }
                metrics.rejected(refusal == .cancelled ? .cancelled : .queueTimeout)
                throw refusal
            }
        }
    }

    fileprivate func release(_ request: AdmissionRequest, actualTokens: Int64?) {
        let now = Date().timeIntervalSince1970
        state.withLock { state in
            state.inFlight[request.deployment.id] = max(0, state.inFlight[request.deployment.id, default: 0] - 1)
            state.tenantInFlight[request.tenant.id] = max(0, state.tenantInFlight[request.tenant.id, default: 0] - 1)
            state.buckets[request.tenant.id]?.settle(reserved: Double(request.estimatedTokens), actual: Double(actualTokens ?? 0), now: now)
        }
        metrics.released(request.deployment.id)
        wakeups.wake(request.deployment.id)
    }
}

/// Released once, however many times `release` is called, and by itself when dropped unreleased.
final class LocalTicket: AdmissionTicket {
    let admission: LocalAdmission
    let request: AdmissionRequest
    let queued: Duration
    private let released = Atomic<Bool>(false)

    init(admission: LocalAdmission, request: AdmissionRequest, queued: Duration) {
        self.admission = admission
        self.request = request
        self.queued = queued
    }

    func release(actualTokens: Int64?) async {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        admission.release(request, actualTokens: actualTokens)
    }

    deinit {
        guard !released.load(ordering: .acquiring) else { return }
        admission.release(request, actualTokens: nil)
    }
}
