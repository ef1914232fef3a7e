import Aggregator
import FairwayCore
import FairwayPostgres
import FairwayRedis
import FairwayTestSupport
import Foundation
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Aggregator ingest against real Postgres and Redis", .enabled(if: TestServers.enabled))
struct IngestTests {
    @Test func tenThousandEventsRollUpToTheCentAndToken() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents(tenants: 3, models: 4, days: 3).make(10_000)
            try await SyntheticEvents.publish(events, to: harness.redis)
            try await harness.running([harness.consumer("a")]) {
                let stored = try await harness.waitForStored(events.count)
                #expect(stored)
                // Acknowledged entries are trimmed from the stream (the trim keeps the last delivered one).
                let deadline = ContinuousClock.now + .seconds(10)
                while try await harness.redis.xlen(RequestLogStream.key) > 1 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(try await harness.redis.xlen(RequestLogStream.key) <= 1)
            }
            try await harness.expectExactly(events)
            #expect(try await harness.scalar("SELECT count(DISTINCT day)::int FROM daily_spend", as: Int.self) == 3)
            #expect(try await harness.scalar("SELECT count(DISTINCT tenant_id)::int FROM daily_spend", as: Int.self) == 3)
            #expect(try await harness.scalar("SELECT count(DISTINCT model_name)::int FROM daily_spend", as: Int.self) == 4)
        }
    }

    @Test func redeliveredEventsAreCountedOnce() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(3_000, seed: 11)
            // Half were committed before a crash that lost their XACK: they are in Postgres and come again.
            try await RequestLogWriter(client: harness.client, logger: harness.logger).write(Array(events.prefix(1_500)))
            try await SyntheticEvents.publish(events, to: harness.redis)
            // And a relay replaying its spill file sends everything twice.
            try await SyntheticEvents.publish(events, to: harness.redis)
            let consumer = harness.consumer("a")
            try await harness.running([consumer]) { () async throws in
                let deadline = ContinuousClock.now + .seconds(60)
                while consumer.acknowledgedCount < 6_000 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(consumer.acknowledgedCount == 6_000)
            try await harness.expectExactly(events)
        }
    }

    @Test func twoAggregatorsShareTheWorkAndCountEachEventOnce() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(6_000, seed: 5)
            let first = harness.consumer("one", batchSize: 100)
            let second = harness.consumer("two", batchSize: 100)
            try await harness.running([first, second]) { () async throws in
                try await SyntheticEvents.publish(events, to: harness.redis, chunk: 100)
                #expect(try await harness.waitForStored(events.count))
                // A batch is acknowledged just after its commit: wait for the last acknowledgement too.
                let deadline = ContinuousClock.now + .seconds(10)
                while first.acknowledgedCount + second.acknowledgedCount < events.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(first.acknowledgedCount > 0 && second.acknowledgedCount > 0, "\(first.acknowledgedCount) / \(second.acknowledgedCount)")
            #expect(first.acknowledgedCount + second.acknowledgedCount == events.count)
            try await harness.expectExactly(events)
        }
    }

    @Test func poisonEntriesGoToTheDeadLetterStream() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(500, seed: 9)
            try await SyntheticEvents.publish(Array(events.prefix(250)), to: harness.redis)
            try await harness.redis.xadd(RequestLogStream.key, fields: [("request_id", "not-a-uuid"), ("junk", "1")])
            var broken = events[0].fields.filter { $0.0 != "cost_usd" }
            broken.append(("cost_usd", "free"))
            try await harness.redis.xadd(RequestLogStream.key, fields: broken)
            try await SyntheticEvents.publish(Array(events.suffix(250)), to: harness.redis)
            try await harness.running([harness.consumer("a")]) { () async throws in
                #expect(try await harness.waitForStored(events.count))
                let deadline = ContinuousClock.now + .seconds(10)
                while try await harness.redis.xlen(RequestLogStream.deadLetterKey) < 2 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try await harness.expectExactly(events)
            let dead = try await harness.redis.send(RedisCommand("XRANGE", RequestLogStream.deadLetterKey, "-", "+")).array ?? []
            #expect(dead.count == 2)
            let reasons = dead.compactMap { entry -> String? in
                guard let fields = entry.array?.last?.array else { return nil }
                let pairs = stride(from: 0, to: fields.count - 1, by: 2).map { (fields[$0].string ?? "", fields[$0 + 1].string ?? "") }
                return Dictionary(pairs, uniquingKeysWith: { a, _ in a })["reason"]
            }
            #expect(reasons.contains { $0.hasPrefix("request_id") })
            #expect(reasons.contains { $0.hasPrefix("cost_usd") })
        }
    }

    @Test func postgresOutageLosesNothing() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(6_000, seed: 21)
            try await harness.running([harness.consumer("a", batchSize: 200)]) { () async throws in
                // Down before the consumer's first write.
                try await harness.postgresOutage(for: .seconds(5)) {
                    try await SyntheticEvents.publish(Array(events.prefix(2_000)), to: harness.redis)
                }
                let first = try await harness.waitForStored(2_000, timeout: .seconds(60))
                #expect(first)
                // Down for 10 s in the middle of the stream, sessions cut mid-batch.
                let writer = Task { try await SyntheticEvents.publish(Array(events.dropFirst(2_000)), to: harness.redis, chunk: 50) }
                while (try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self) ?? 0) < 2_400 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await harness.postgresOutage(for: .seconds(10))
                try await writer.value
                let all = try await harness.waitForStored(events.count, timeout: .seconds(90))
                #expect(all)
            }
            try await harness.expectExactly(events)
        }
    }

    @Test func partitionsAreKeptAheadAndDroppedPastRetention() async throws {
        try await IngestHarness.with { harness in
            _ = try await harness.client.query("SELECT request_logs_ensure_partition('2020-01-01')", logger: harness.logger)
            let maintainer = PartitionMaintainer(client: harness.client, daysAhead: 10, retentionDays: 30, logger: harness.logger)
            #expect(try await maintainer.maintain() == 1)
            let names = try await harness.client.query(
                "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname ~ '^request_logs_[0-9]{8}$'",
                logger: harness.logger
            )
            var partitions: [String] = []
            for try await list in names.decode(String.self) { partitions = list.split(separator: ",").map(String.init) }
            #expect(!partitions.contains("request_logs_20200101"))
            let formatter = Date.ISO8601FormatStyle().year().month().day().dateSeparator(.omitted)
            let inTenDays = "request_logs_" + Date().addingTimeInterval(10 * 86_400).formatted(formatter)
            #expect(partitions.contains(inTenDays), "\(partitions)")
        }
    }

    @Test func lateEventsForADroppedDayAreStoredAgain() async throws {
        try await IngestHarness.with { harness in
            let writer = RequestLogWriter(client: harness.client, logger: harness.logger)
            let events = SyntheticEvents(days: 1).make(100, seed: 4)
            try await writer.write(Array(events.prefix(50)))
            // Retention drops the day while this writer still remembers having created its partition.
            _ = try await harness.client.query("SELECT request_logs_drop_partitions_before('2026-03-02')", logger: harness.logger)
            await #expect(throws: (any Error).self) { try await writer.write(Array(events.suffix(50))) }
            #expect(try await writer.write(Array(events.suffix(50))) == 50)
        }
    }

    @Test func rebuildEqualsTheIncrementalResult() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents(days: 2).make(3_000, seed: 2)
            try await RequestLogWriter(client: harness.client, logger: harness.logger).write(events)
            let incremental = try await harness.scalar(
                "SELECT string_agg(t::text, ';' ORDER BY t::text) FROM (SELECT \(IngestHarness.rollupColumns) FROM daily_spend) t", as: String.self
            )
            _ = try await harness.client.query("UPDATE daily_spend SET requests = requests + 7, cost_usd = 0", logger: harness.logger)
            let written = try await SpendRebuild(client: harness.client, logger: harness.logger)
                .rebuild(days: ["2026-03-01", "2026-03-02"])
            #expect(written.values.reduce(0, +) > 0)
            let rebuilt = try await harness.scalar(
                "SELECT string_agg(t::text, ';' ORDER BY t::text) FROM (SELECT \(IngestHarness.rollupColumns) FROM daily_spend) t", as: String.self
            )
            #expect(rebuilt == incremental)
            try await harness.expectExactly(events)
        }
    }

    @Test func killedAggregatorResumesWithoutLossOrDoubleCounting() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(20_000, seed: 13)
            let environment = [
                "DATABASE_URL": harness.database.url, "REDIS_URL": harness.redisServer.url,
                "FAIRWAY_BATCH_SIZE": "250", "FAIRWAY_RECLAIM_IDLE": "1", "FAIRWAY_BATCH_WAIT": "0.1",
                // The synthetic days lie in the past: keep their partitions.
                "FAIRWAY_LOG_RETENTION_DAYS": "3650",
            ]
            let first = try ServiceBinary("fairway-aggregator", environment: environment)
            let publisher = Task { try await SyntheticEvents.publish(events, to: harness.redis, chunk: 250) }
            // Let it get going, then kill it mid-stream without any chance to clean up.
            let deadline = ContinuousClock.now + .seconds(60)
            while (try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self) ?? 0) < 2_000,
                  ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            first.child.signal(SIGKILL)
            _ = await first.child.waitForExit(timeout: .seconds(10))
            let storedAtKill = try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self) ?? 0
            #expect(storedAtKill > 0 && storedAtKill < events.count)
            try await publisher.value

            let second = try ServiceBinary("fairway-aggregator", environment: environment)
            #expect(try await harness.waitForStored(events.count, timeout: .seconds(90)), "\(second.child.output)")
            await second.child.stop()
            try await harness.expectExactly(events)
        }
    }
}
