import Aggregator
import FairwayCore
import FairwayPostgres
import FairwayRedis
import FairwayTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// A migrated database and a private Redis (the stream name is global, so each test gets its own server).
struct IngestHarness: Sendable {
    let database: TestDatabase
    let client: PostgresClient
    let redisServer: RedisServerProcess
    let redis: RedisClient
    let logger = Logger(label: "test.aggregator")

    static func with(_ body: @Sendable (IngestHarness) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            try await database.withClient { client in
                try await MigrationRunner(migrations: try Migration.embedded(), logger: TestDatabase.logger).run(on: client)
                let server = try await RedisServerProcess()
                let redis = RedisClient(configuration: server.configuration)
                do {
                    try await body(IngestHarness(database: database, client: client, redisServer: server, redis: redis))
                } catch {
                    redis.close()
                    await server.stop()
                    throw error
                }
                redis.close()
                await server.stop()
            }
        }
    }

    /// Settings for a test consumer. The reclaim idle is long: in normal operation no entry is taken over, so each
    /// is delivered once; the crash drill uses a short one on purpose.
    /// Synthetic events lie in March 2026, so retention is long unless a test says otherwise.
    func settings(_ name: String, batchSize: Int = 500, reclaimIdle: Duration = .seconds(30), retentionDays: Int = 3650) -> IngestSettings {
        IngestSettings(
            consumerName: name, batchSize: batchSize, batchWait: .milliseconds(100), reclaimIdle: reclaimIdle,
            trimInterval: .seconds(1), attemptDeadline: .seconds(5), retentionDays: retentionDays
        )
    }

    func consumer(_ name: String, batchSize: Int = 500, retentionDays: Int = 3650) -> StreamConsumer {
        StreamConsumer(
            redis: redis, writer: RequestLogWriter(client: client, logger: logger),
            settings: settings(name, batchSize: batchSize, retentionDays: retentionDays), logger: logger
        )
    }

    /// The dead-letter stream's entries: their fields by name.
    func deadLetters() async throws -> [[String: String]] {
        let entries = try await redis.send(RedisCommand("XRANGE", RequestLogStream.deadLetterKey, "-", "+")).array ?? []
        return entries.map { entry in
            let fields = entry.array?.last?.array ?? []
            let pairs = stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0].string ?? "", fields[$0 + 1].string ?? "") }
            return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Waits until the dead-letter stream holds `count` entries and nothing is pending in the consumer group.
    func waitForSettled(deadLetters count: Int, timeout: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let dead = try await redis.xlen(RequestLogStream.deadLetterKey)
            let pending = (try await redis.send(RedisCommand("XPENDING", RequestLogStream.key, RequestLogStream.group)).array?.first?.int) ?? -1
            if dead >= count && pending == 0 { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Refuses new connections to the test database and cuts the existing ones for `duration`, then lets them in again.
    func postgresOutage(for duration: Duration, during: () async throws -> Void = {}) async throws {
        let admin = try DatabaseConfiguration(url: try TestServers.databaseURL(), variable: "FAIRWAY_TEST_DATABASE_URL")
        try await TestDatabase.withClient(admin) { adminClient in
            let name = database.name
            _ = try await adminClient.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false"), logger: logger)
            _ = try await adminClient.query(
                PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()"),
                logger: logger
            )
            let started = ContinuousClock.now
            try await during()
            try await Task.sleep(until: started + duration)
            _ = try await adminClient.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true"), logger: logger)
        }
    }

    /// Runs the consumers while `body` runs; cancels them afterwards.
    func running<T: Sendable>(_ consumers: [StreamConsumer], _ body: () async throws -> T) async throws -> T {
        let tasks = consumers.map { consumer in Task { try await consumer.run() } }
        defer { tasks.forEach { $0.cancel() } }
        return try await body()
    }

    func scalar<T: PostgresDecodable & Sendable>(_ sql: String, as type: T.Type) async throws -> T? {
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(T.self) {
            return value
        }
        return nil
    }

    /// Waits until `request_logs` holds `count` rows; false after `timeout`.
    func waitForStored(_ count: Int, timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await scalar("SELECT count(*)::int FROM request_logs", as: Int.self)) == count { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    static let rollupFromLogs = """
        SELECT (started_at AT TIME ZONE 'UTC')::date AS day, tenant_id, api_key_id, model_name, deployment_id,
               count(*)::int8 AS requests, (count(*) FILTER (WHERE status_code < 400))::int8 AS succeeded,
               (count(*) FILTER (WHERE status_code >= 400))::int8 AS failed,
               (count(*) FILTER (WHERE cache_hit))::int8 AS cache_hits, sum(prompt_tokens)::int8 AS prompt_tokens,
               sum(completion_tokens)::int8 AS completion_tokens, sum(cached_tokens)::int8 AS cached_tokens,
               sum(cost_usd) AS cost_usd, sum(latency_ms)::int8 AS latency_ms_sum
        FROM request_logs GROUP BY 1, 2, 3, 4, 5
        """

    static let rollupColumns = """
        day, tenant_id, api_key_id, model_name, deployment_id, requests, succeeded, failed, cache_hits, prompt_tokens,
        completion_tokens, cached_tokens, cost_usd, latency_ms_sum
        """

    /// Rows that differ between `daily_spend` and a direct GROUP BY over `request_logs` (0 when they agree exactly).
    func rollupDifferences() async throws -> Int {
        try await scalar(
            """
            SELECT count(*)::int FROM (
                (SELECT \(Self.rollupColumns) FROM daily_spend EXCEPT ALL \(Self.rollupFromLogs))
                UNION ALL
                (\(Self.rollupFromLogs) EXCEPT ALL SELECT \(Self.rollupColumns) FROM daily_spend)
            ) AS differences
            """,
            as: Int.self
        ) ?? -1
    }

    /// Requests, tokens and cost as `daily_spend` has them.
    func spendTotals() async throws -> (requests: Int64, promptTokens: Int64, cost: Decimal) {
        for try await (requests, prompt, cost) in try await client.query(
            "SELECT coalesce(sum(requests), 0)::int8, coalesce(sum(prompt_tokens), 0)::int8, coalesce(sum(cost_usd), 0)::text FROM daily_spend",
            logger: logger
        ).decode((Int64, Int64, String).self) {
            return (requests, prompt, Decimal(string: cost, locale: Locale(identifier: "en_US_POSIX")) ?? -1)
        }
        return (0, 0, 0)
    }

    /// Asserts `daily_spend` holds exactly `events`, each once, and agrees with `request_logs`.
    func expectExactly(_ events: [RequestLogEvent], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(try await scalar("SELECT count(*)::int FROM request_logs", as: Int.self) == events.count, sourceLocation: sourceLocation)
        let totals = try await spendTotals()
        #expect(totals.requests == Int64(events.count), sourceLocation: sourceLocation)
        #expect(totals.promptTokens == events.reduce(0) { $0 + $1.promptTokens }, sourceLocation: sourceLocation)
        #expect(totals.cost == events.reduce(Decimal(0)) { $0 + $1.costUSD }, sourceLocation: sourceLocation)
        #expect(try await rollupDifferences() == 0, sourceLocation: sourceLocation)
    }
}
