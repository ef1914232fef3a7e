import FairwayCore
import FairwayRedis
import Foundation
import Logging
import Metrics

/// Shared deployment health (DESIGN §5.2): after `threshold` consecutive failures, or any upstream 429, a deployment is
/// marked down for `duration` for every relay.
public protocol CooldownStore: Sendable {
    /// The deployments among `ids` that are cooling down, and those with a failure streak (so a success must reset it).
    func state(of ids: [UUID]) async -> CooldownState
    func recordFailure(_ id: UUID, kind: FailoverPolicy.CooldownKind) async
    func recordSuccess(_ id: UUID) async
}

public struct CooldownState: Sendable, Equatable {
    public var coolingDown: Set<UUID> = []
    public var failing: Set<UUID> = []
    public init(coolingDown: Set<UUID> = [], failing: Set<UUID> = []) {
        self.coolingDown = coolingDown
        self.failing = failing
    }
}

/// Cooldowns as Redis keys with a TTL, named with the deployment's hash tag (`fw:{dep:<id>}:…`, DESIGN §11). When
/// Redis cannot answer, no deployment is considered down: routing then simply tries them in order.
public struct RedisCooldownStore: CooldownStore {
    public let redis: RedisClient
    public let threshold: Int
    public let duration: Duration
    private let logger: Logger
    private let marked = Counter(label: "fairway_deployment_cooldowns_total")

    /// Counts a failure and starts the cooldown when the streak reaches the threshold (or at once for a 429).
    static let failureScript = RedisScript("""
        local count = redis.call('INCR', KEYS[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if ARGV[3] == '1' or count >= tonumber(ARGV[1]) then
            redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
            redis.call('DEL', KEYS[1])
            return 1
        end
        return 0
        """)

    public init(redis: RedisClient, threshold: Int, duration: Duration, logger: Logger) {
        self.redis = redis
        self.threshold = threshold
        self.duration = duration
        self.logger = logger
    }

    static func cooldownKey(_ id: UUID) -> String { "fw:{dep:\(id.lowercaseText)}:cooldown" }
    static func failuresKey(_ id: UUID) -> String { "fw:{dep:\(id.lowercaseText)}:failures" }

    public func state(of ids: [UUID]) async -> CooldownState {
        guard !ids.isEmpty else { return CooldownState() }
        let commands = ids.flatMap { id in
            [RedisCommand("EXISTS", Self.cooldownKey(id)), RedisCommand("EXISTS", Self.failuresKey(id))]
        }
        do {
            let replies = try await redis.pipeline(commands, timeout: .milliseconds(500))
            var state = CooldownState()
            for (position, id) in ids.enumerated() {
                if replies[position * 2].int == 1 { state.coolingDown.insert(id) }
                if replies[position * 2 + 1].int == 1 { state.failing.insert(id) }
            }
            return state
        } catch {
            logger.debug("Cooldown state unavailable; trying every deployment", metadata: ["error": "\(error)"])
            return CooldownState()
        }
    }

    public func recordFailure(_ id: UUID, kind: FailoverPolicy.CooldownKind) async {
        do {
            let reply = try await redis.evaluate(
                Self.failureScript,
                keys: [Self.failuresKey(id), Self.cooldownKey(id)],
                arguments: [threshold, duration.milliseconds, kind == .rateLimited ? "1" : "0"]
            )
            if reply.int == 1 {
                marked.increment()
                logger.warning("Deployment cooling down", metadata: ["deployment_id": "\(id.lowercaseText)", "reason": "\(kind)"])
            }
        } catch {
            logger.debug("Could not record a deployment failure", metadata: ["error": "\(error)"])
        }
    }

    public func recordSuccess(_ id: UUID) async {
        _ = try? await redis.delete([Self.failuresKey(id)])
    }
}
