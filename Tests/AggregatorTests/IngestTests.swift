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

    @Test func aRedeliveryAfterRetentionIsDeadLetteredNotCountedAgain() async throws {
        try await IngestHarness.with { harness in
            // Today's events are stored; one of the same kind from 40 days ago (its day long dropped) is not.
            var today = SyntheticEvents(days: 1)
            today.firstDay = UnixClock.microseconds() / 86_400_000_000 * 86_400_000_000
            let events = today.make(50, seed: 4)
            var late = events[0]
            late.requestID = UUID()
            late.startedAt -= 40 * 86_400_000_000
            late.finishedAt -= 40 * 86_400_000_000
            var future = events[1]
            future.requestID = UUID()
            future.startedAt += 3 * 86_400_000_000
            future.finishedAt += 3 * 86_400_000_000
            try await SyntheticEvents.publish(events + [late, future], to: harness.redis)
            try await harness.running([harness.consumer("a", retentionDays: 30)]) { () async throws in
                #expect(try await harness.waitForStored(events.count))
                #expect(try await harness.waitForSettled(deadLetters: 2))
            }
            try await harness.expectExactly(events)
            let reasons = try await harness.deadLetters().compactMap { $0["reason"] }
            #expect(reasons.contains { $0.contains("retention") } && reasons.contains { $0.contains("future") }, "\(reasons)")
            let lateDay = "request_logs_" + RequestLogEvent.utcDay(microseconds: late.startedAt).replacingOccurrences(of: "-", with: "")
            #expect(try await harness.scalar("SELECT to_regclass('\(lateDay)') IS NULL", as: Bool.self) == true, "no partition re-created")
        }
    }

    @Test func aBatchWithPoisonCommitsTheRestAndDeadLettersOnlyThePoison() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(999, seed: 21)
            // Postgres refuses each of these as data: NUL in text (22021), a too-large index row (54000), and a rollup
            // sum beyond bigint (22003) on a grain that already has a row.
            var nul = events[0]
            nul.requestID = UUID()
            nul.modelName = "a\u{0}b"
            var huge = events[1]
            huge.requestID = UUID()
            // Random, so TOAST compression cannot shrink it under the index's row limit.
            var random = SeededGenerator(seed: 3)
            let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            huge.modelName = String((0..<100_000).map { _ in letters[Int(random.next() % UInt64(letters.count))] })
            try await RequestLogWriter(client: harness.client, logger: harness.logger).write([events[2]])
            var overflow = events[2]
            overflow.requestID = UUID()
            overflow.promptTokens = Int64.max
            let poison = [nul, huge, overflow]
            var batch = Array(events.dropFirst(3))
            for (offset, event) in poison.enumerated() { batch.insert(event, at: 100 + offset * 300) }
            try await SyntheticEvents.publish([events[0], events[1]] + batch, to: harness.redis, chunk: 5000)
            try await harness.running([harness.consumer("a", batchSize: 5000)]) { () async throws in
                // Bisection is a few dozen transactions: seconds alone, but slow when the whole suite shares two cores.
                #expect(try await harness.waitForStored(events.count, timeout: .seconds(180)), "999 good events stored")
                #expect(try await harness.waitForSettled(deadLetters: 3), "poison dead-lettered, nothing left pending")
            }
            let dead = try await harness.deadLetters()
            let storedPoison = try await harness.scalar(
                "SELECT coalesce(string_agg(left(model_name, 20) || ':' || prompt_tokens, ','), '') FROM request_logs WHERE request_id IN ('\(poison.map(\.requestID.lowercaseText).joined(separator: "','"))')",
                as: String.self
            )
            #expect(storedPoison == "", "no poison stored: \(dead)")
            try await harness.expectExactly(events)
            #expect(dead.count == 3)
            let reasons = Set(dead.compactMap { $0["reason"]?.prefix(14) }.map(String.init))
            #expect(reasons == ["SQLSTATE 22021", "SQLSTATE 54000", "SQLSTATE 22003"], "\(reasons)")
            #expect(Set(dead.compactMap { $0["request_id"] }) == Set(poison.map(\.requestID.lowercaseText)))
        }
    }

    @Test func trimmingNeverRemovesAnEntryThatIsDeliveredButNotAcknowledged() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents().make(30, seed: 5)
            try await harness.redis.xgroupCreate(RequestLogStream.key, group: RequestLogStream.group, startID: "0")
            try await SyntheticEvents.publish(Array(events.prefix(10)), to: harness.redis)
            // Another consumer takes the first ten and has not acknowledged them (it is mid-batch, or dead).
            let taken = try await harness.redis.xreadgroup(
                RequestLogStream.key, group: RequestLogStream.group, consumer: "slow", count: 10, id: ">"
            )
            #expect(taken.count == 10)
            try await SyntheticEvents.publish(Array(events.suffix(20)), to: harness.redis)
            // It must not reclaim the slow consumer's entries itself, however long this takes under load.
            let consumer = StreamConsumer(
                redis: harness.redis, writer: RequestLogWriter(client: harness.client, logger: harness.logger),
                settings: harness.settings("a", reclaimIdle: .seconds(3600)), logger: harness.logger
            )
            try await harness.running([consumer]) { () async throws in
                #expect(try await harness.waitForStored(20))
                await consumer.trim()
            }
            #expect(try await harness.redis.xlen(RequestLogStream.key) >= 10, "the slow consumer's entries are still there")
            let reclaimed = try await harness.redis.xautoclaim(
                RequestLogStream.key, group: RequestLogStream.group, consumer: "b", minIdle: .zero, start: "0-0", count: 100
            )
            // Every entry the slow consumer holds is still claimable (a consumer stopped mid-acknowledgement under load
            // may leave some of its own pending too: they do not matter here).
            #expect(Set(taken.map(\.id)).isSubset(of: Set(reclaimed.entries.map(\.id))), "\(reclaimed.entries.count) reclaimed")
            #expect(reclaimed.deletedIDs.isEmpty)
        }
    }

    @Test func rebuildRefusesADayWhosePartitionIsGone() async throws {
        try await IngestHarness.with { harness in
            let events = SyntheticEvents(days: 2).make(200, seed: 8)
            try await RequestLogWriter(client: harness.client, logger: harness.logger).write(events)
            _ = try await harness.client.query("SELECT request_logs_drop_partitions_before('2026-03-02')", logger: harness.logger)
            let before = try await harness.scalar("SELECT sum(requests)::int FROM daily_spend", as: Int.self)
            await #expect(throws: SpendRebuild.PartitionGone.self) {
                try await SpendRebuild(client: harness.client, logger: harness.logger).rebuild(days: ["2026-03-01", "2026-03-02"])
            }
            #expect(try await harness.scalar("SELECT sum(requests)::int FROM daily_spend", as: Int.self) == before, "rollups untouched")
            #expect(try await SpendRebuild(client: harness.client, logger: harness.logger).rebuild(days: ["2026-03-02"])["2026-03-02"] ?? 0 > 0)
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
