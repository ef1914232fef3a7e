import FairwayCore
import FairwayRedis
import Logging
import Metrics

/// Publishes invalidations after commit. A failed publish is logged and counted but never fails the request: the
/// change is committed, and relays also poll `config_version`, so they converge within the poll interval anyway.
public protocol InvalidationPublishing: Sendable {
    func publish(_ invalidations: [Invalidation]) async
}

public struct RedisInvalidationPublisher: InvalidationPublishing {
    let redis: RedisClient
    let logger: Logger
    private let failures = Counter(label: "fairway_invalidation_publish_failures_total")
    private let published = Counter(label: "fairway_invalidations_published_total")

    public init(redis: RedisClient, logger: Logger) {
        self.redis = redis
        self.logger = logger
    }

    public func publish(_ invalidations: [Invalidation]) async {
        guard !invalidations.isEmpty else { return }
        let commands = invalidations.map { RedisCommand("PUBLISH", Invalidation.channel, $0.json) }
        do {
            let replies = try await redis.pipeline(commands)
            for case .error(let message) in replies {
                throw RedisError.server(message)
            }
            published.increment(by: invalidations.count)
        } catch {
            failures.increment(by: invalidations.count)
            logger.error("Could not publish cache invalidation; relays will catch up by polling config_version", metadata: [
                "error": "\(error)", "entities": "\(invalidations.map { "\($0.entity):\($0.id)" })",
            ])
        }
    }
}
