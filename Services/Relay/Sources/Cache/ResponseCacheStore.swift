import FairwayRedis
import Logging
import Metrics

/// Where cached answers live. Errors are misses: the cache may make a request faster, never make it fail.
public protocol ResponseCacheStore: Sendable {
    func get(_ key: String) async -> [UInt8]?
    func put(_ key: String, _ body: [UInt8], ttlSeconds: Int) async
}

/// No cache (tests of other features).
public struct NoResponseCache: ResponseCacheStore {
    public init() {}
    public func get(_ key: String) async -> [UInt8]? { nil }
    public func put(_ key: String, _ body: [UInt8], ttlSeconds: Int) async {}
}

/// Answers in Redis under the tenant's hash tag, with a short timeout so a slow Redis costs a request little.
public struct RedisResponseCache: ResponseCacheStore {
    let redis: RedisClient
    let timeout: Duration
    let logger: Logger
    private let hits = Counter(label: "fairway_cache_lookups_total", dimensions: [("result", "hit")])
    private let misses = Counter(label: "fairway_cache_lookups_total", dimensions: [("result", "miss")])
    private let failures = Counter(label: "fairway_cache_errors_total")

    public init(redis: RedisClient, timeout: Duration = .milliseconds(250), logger: Logger) {
        self.redis = redis
        self.timeout = timeout
        self.logger = logger
    }

    public func get(_ key: String) async -> [UInt8]? {
        do {
            let reply = try await redis.send(RedisCommand("GET", key), timeout: timeout)
            guard let bytes = reply.bytes else {
                misses.increment()
                return nil
            }
            hits.increment()
            return bytes
        } catch {
            failures.increment()
            logger.debug("Cache read failed; answering from upstream", metadata: ["error": "\(error)"])
            return nil
        }
    }

    public func put(_ key: String, _ body: [UInt8], ttlSeconds: Int) async {
        do {
            _ = try await redis.send(RedisCommand("SET", key, body, "EX", max(1, ttlSeconds)), timeout: timeout)
        } catch {
            failures.increment()
            logger.debug("Cache write failed", metadata: ["error": "\(error)"])
        }
    }
}
