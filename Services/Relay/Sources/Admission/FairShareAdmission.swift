import FairwayRedis
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The relay's ``Admission``: global through Redis, local while Redis is unreachable (logged once, exposed as
/// `fairway_admission_degraded 1`), and global again as soon as Redis answers.
public final class FairShareAdmission: Admission, Service {
    public let global: RedisAdmission
    public let local: LocalAdmission
    private let degraded = Atomic<Bool>(false)
    private let logger: Logger

    public init(global: RedisAdmission, local: LocalAdmission, logger: Logger) {
        self.global = global
        self.local = local
        self.logger = logger
    }

    public var isDegraded: Bool { degraded.load(ordering: .acquiring) }

    public func acquire(_ request: AdmissionRequest) async throws(AdmissionRefusal) -> any AdmissionTicket {
        // Nothing scarce to share and no quota to charge: no Redis round trip at all.
        let deployment = request.deployment
        if deployment.maxConcurrency == nil && deployment.rpmLimit == nil && deployment.tpmLimit == nil
            && request.tenant.maxConcurrency == nil && request.tenant.tokensPerMinute == 0 {
            return PassThroughAdmission.Ticket()
        }
        if !isDegraded {
            do {
                return try await global.acquire(request)
            } catch {
                switch error {
                case .refused(let refusal):
                    throw refusal
                case .redis(let redisError):
                    guard redisError.isConnectivity else {
                        logger.error("Admission script failed; admitting locally", metadata: ["error": "\(redisError)"])
                        return try await local.acquire(request)
                    }
                    enterDegradedMode(redisError)
                }
            }
        }
        return try await local.acquire(request)
    }

    private func enterDegradedMode(_ error: RedisError) {
        guard !degraded.exchange(true, ordering: .acquiringAndReleasing) else { return }
        global.metrics.degraded.record(1)
        logger.error("Redis unreachable: admission is local until it answers again", metadata: ["error": "\(error)"])
    }

    /// While degraded, checks Redis every second and returns to global admission when it answers; keeps the slot
    /// pool (``RedisAdmission/maintainPool()``). At shutdown (after the server has drained) it gives the pool's slots
    /// back and waits for the slot releases still on their way, so none is lost with Redis's connections.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.global.maintainPool() }
                group.addTask { await self.watchRedis() }
                await group.waitForAll()
            }
        }
        await global.pendingReleases.drained()
    }

    private func watchRedis() async {
        while (try? await Task.sleep(for: .seconds(1))) != nil {
            guard isDegraded else { continue }
            if (try? await global.redis.ping()) != nil {
                degraded.store(false, ordering: .releasing)
                global.metrics.degraded.record(0)
                logger.info("Redis answers again: admission is global")
            }
        }
    }
}
