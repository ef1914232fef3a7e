import FairwayCore
import FairwayRedis
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps the leases of in-flight requests alive: every third of the lease TTL it extends all of this relay's leases in
/// one pipelined round trip. A crashed relay stops renewing, so its leases expire and the capacity returns within one
/// TTL, while a long stream holds its slot for as long as it runs (DESIGN §10).
public final class LeaseRenewer: Service, Sendable {
    struct Lease: Sendable, Hashable {
        var id: String
        var deploymentSlots: String
        var tenantSlots: String
    }

    private let redis: RedisClient
    private let ttl: Duration
    private let logger: Logger
    private let leases = Mutex<Set<Lease>>([])

    public init(redis: RedisClient, ttl: Duration, logger: Logger) {
        self.redis = redis
        self.ttl = ttl
        self.logger = logger
    }

    func add(_ lease: Lease) { _ = leases.withLock { $0.insert(lease) } }
    func remove(_ lease: Lease) { _ = leases.withLock { $0.remove(lease) } }

    public func run() async throws {
        let ttlMS = ttl.milliseconds
        // In-flight requests drain before this stops, so their leases are already released.
        try? await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                try await Task.sleep(for: ttl / 3)
                await renewAll(ttlMS: ttlMS)
            }
        }
    }

    private func renewAll(ttlMS: Int64) async {
        let current = leases.withLock { Array($0) }
        guard !current.isEmpty else { return }
        let commands = current.map { lease in
            RedisCommand("EVALSHA", [AdmissionScripts.renew.sha1, 2, lease.deploymentSlots, lease.tenantSlots, lease.id, ttlMS])
        }
        do {
            let replies = try await redis.pipeline(commands, timeout: .seconds(2))
            if replies.contains(where: { if case .error(let message) = $0 { message.hasPrefix("NOSCRIPT") } else { false } }) {
                // The first renewal after a start (or a Redis restart): load the script and renew now, not a third
                // of a TTL later.
                _ = try await redis.send(RedisCommand("SCRIPT", "LOAD", AdmissionScripts.renew.source))
                _ = try await redis.pipeline(commands, timeout: .seconds(2))
            }
        } catch {
            logger.warning("Lease renewal failed", metadata: ["error": "\(error)", "leases": "\(current.count)"])
        }
    }
}
