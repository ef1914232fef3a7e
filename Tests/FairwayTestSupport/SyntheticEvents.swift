import FairwayCore
import FairwayRedis
import Foundation

/// Request-log events made up for tests and benchmarks, reproducible from a seed.
public struct SyntheticEvents {
    public var tenants: [UUID]
    public var keys: [UUID: [UUID]]
    public var models: [(name: String, deployment: UUID?)]
    /// Microseconds since the epoch of midnight UTC of the first day.
    public var firstDay: Int64
    public var days: Int

    public init(tenants: Int = 3, keysPerTenant: Int = 2, models: Int = 4, firstDay: String = "2026-03-01", days: Int = 3) {
        self.tenants = (0..<tenants).map { _ in UUID() }
        var keys: [UUID: [UUID]] = [:]
        for tenant in self.tenants { keys[tenant] = (0..<keysPerTenant).map { _ in UUID() } }
        self.keys = keys
        self.models = (0..<models).map { index in ("model-\(index)", index == models - 1 ? nil : UUID()) }
        let date = (try? Date.ISO8601FormatStyle().year().month().day().parse(firstDay)) ?? Date(timeIntervalSince1970: 0)
        self.firstDay = Int64(date.timeIntervalSince1970) * 1_000_000
        self.days = days
    }

    /// `count` events spread over the days, tenants, keys and models, with mixed outcomes.
    public func make(_ count: Int, seed: UInt64 = 42) -> [RequestLogEvent] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let tenant = tenants[Int(random.next() % UInt64(tenants.count))]
            let tenantKeys = keys[tenant] ?? []
            let key = tenantKeys[Int(random.next() % UInt64(tenantKeys.count))]
            let model = models[Int(random.next() % UInt64(models.count))]
            let started = firstDay + Int64(random.next() % UInt64(Int64(days) * 86_400_000_000))
            let latency = Int(random.next() % 5_000)
            let outcome = random.next() % 10
            let status = outcome < 8 ? 200 : (outcome == 8 ? 429 : 502)
            let prompt = Int64(random.next() % 4_000)
            let completion = status == 200 ? Int64(random.next() % 1_000) : 0
            let costMicros = status == 200 ? Int64(random.next() % 50_000_000) : 0
            return RequestLogEvent(
                requestID: UUID(), startedAt: started, finishedAt: started + Int64(latency) * 1_000,
                tenantID: tenant, apiKeyID: key, modelName: model.name, modelGroup: random.next() % 2 == 0 ? "smart" : nil,
                deploymentID: status == 502 ? nil : model.deployment, provider: "openai", endpoint: "/v1/chat/completions",
                stream: random.next() % 2 == 0, statusCode: status, errorType: status == 200 ? nil : "upstream_error",
                promptTokens: prompt, completionTokens: completion, cachedTokens: prompt / 4,
                costPicoUSD: costMicros * 1_000, latencyMS: latency,
                ttftMS: status == 200 ? latency / 3 : nil, queueMS: Int(random.next() % 50), attempts: status == 502 ? 2 : 1,
                cacheHit: random.next() % 20 == 0, relayID: "relay-test"
            )
        }
    }

    /// XADDs the events in pipelined chunks.
    public static func publish(_ events: [RequestLogEvent], to redis: RedisClient, chunk: Int = 500) async throws {
        var index = 0
        while index < events.count {
            let slice = events[index..<min(index + chunk, events.count)]
            let replies = try await redis.pipeline(slice.map { RedisClient.xaddCommand(RequestLogStream.key, fields: $0.fields) })
            for case .error(let message) in replies { throw RedisError.server(message) }
            index += chunk
        }
    }
}

/// SplitMix64: small, fast, reproducible.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
