import FairwayCore
import FairwayRedis
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Reads `fairway:requests` as one member of the aggregators' consumer group and hands batches to the writer.
///
/// Order of effects per batch: decode → commit to Postgres → XACK. A crash anywhere before XACK leaves the entries
/// pending; they are delivered again (to this consumer after a restart with the same name, or to another one through
/// XAUTOCLAIM) and the writer's idempotence makes the second delivery harmless. Postgres or Redis failures are retried
/// with backoff, never acknowledged early, so nothing is lost. Entries that cannot be decoded go to a dead-letter
/// stream with the reason and are acknowledged, so one bad entry cannot stall the pipeline.
public final class StreamConsumer: Sendable, Service {
    private let redis: RedisClient
    private let writer: RequestLogWriter
    private let settings: IngestSettings
    private let logger: Logger
    private let acknowledged = Atomic<Int>(0)
    private let stored = Counter(label: "fairway_aggregator_events_total", dimensions: [("result", "stored")])
    private let duplicates = Counter(label: "fairway_aggregator_events_total", dimensions: [("result", "duplicate")])
    private let deadLetters = Counter(label: "fairway_aggregator_dead_letters_total")
    private let refusedByPostgres = Counter(label: "fairway_aggregator_events_total", dimensions: [("result", "refused")])
    private let deletedWhilePending = Counter(label: "fairway_aggregator_deleted_pending_total")
    private let batchSizes = Recorder(label: "fairway_aggregator_batch_size")
    private let batchDurations = Timer(label: "fairway_aggregator_batch_duration_seconds")
    private let lag = Gauge(label: "fairway_aggregator_stream_lag")
    private let pending = Gauge(label: "fairway_aggregator_stream_pending")

    public init(redis: RedisClient, writer: RequestLogWriter, settings: IngestSettings, logger: Logger) {
        self.redis = redis
        self.writer = writer
        self.settings = settings
        self.logger = logger
    }

    /// Entries this consumer has acknowledged (stored, duplicate or dead-lettered).
    public var acknowledgedCount: Int { acknowledged.load(ordering: .relaxed) }

    private var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    public func run() async throws {
        let redis = self.redis
        let settings = self.settings
        _ = await retrying("create consumer group") {
            try await redis.xgroupCreate(RequestLogStream.key, group: RequestLogStream.group, startID: "0")
        }
        // Entries delivered to this consumer name before a restart come first.
        while !stopping {
            guard let entries = await retrying("read own pending entries", {
                try await redis.xreadgroup(
                    RequestLogStream.key, group: RequestLogStream.group, consumer: settings.consumerName,
                    count: settings.batchSize, id: "0"
                )
            }), !entries.isEmpty else { break }
            await process(entries)
        }
        let clock = ContinuousClock()
        var nextReclaim = clock.now
        var nextTrim = clock.now + settings.trimInterval
        while !stopping {
            if clock.now >= nextReclaim {
                await reclaim()
                nextReclaim = clock.now + max(settings.reclaimIdle / 2, .milliseconds(100))
            }
            if clock.now >= nextTrim {
                await trim()
                nextTrim = clock.now + settings.trimInterval
            }
            let entries = await retrying("read stream") {
                try await redis.xreadgroup(
                    RequestLogStream.key, group: RequestLogStream.group, consumer: settings.consumerName,
                    count: settings.batchSize, block: min(settings.batchWait, max(settings.reclaimIdle / 2, .milliseconds(100)))
                )
            } ?? []
            if !entries.isEmpty { await process(entries) }
        }
    }

    /// Takes over entries other consumers left pending for longer than `reclaimIdle`.
    func reclaim() async {
        let redis = self.redis
        let settings = self.settings
        var start = "0-0"
        repeat {
            let from = start
            guard let claim = await retrying("reclaim pending entries", {
                try await redis.xautoclaim(
                    RequestLogStream.key, group: RequestLogStream.group, consumer: settings.consumerName,
                    minIdle: settings.reclaimIdle, start: from, count: settings.batchSize
                )
            }) else { return }
            if !claim.deletedIDs.isEmpty {
                // Pending but no longer in the stream: trimmed or deleted before anyone stored them.
                deletedWhilePending.increment(by: claim.deletedIDs.count)
                logger.error("Pending request-log entries were found deleted from the stream", metadata: [
                    "count": "\(claim.deletedIDs.count)", "first": "\(claim.deletedIDs[0])",
                ])
            }
            if !claim.entries.isEmpty {
                logger.info("Reclaimed pending entries", metadata: ["count": "\(claim.entries.count)"])
                await process(claim.entries)
            }
            start = claim.nextStart
        } while start != "0-0" && !stopping
    }

    /// Decodes, stores and acknowledges one batch. Entries that can never be stored — undecodable, outside the
    /// stored days, or refused by Postgres as data (found by bisecting the batch) — go to the dead-letter stream with
    /// the reason and are acknowledged with the rest; only unavailability is retried. Nothing is acknowledged before it
    /// is stored or dead-lettered.
    func process(_ entries: [RedisStreamEntry]) async {
        let started = ContinuousClock.now
        let now = UnixClock.microseconds()
        var events: [Decoded] = []
        var rejected: [(RedisStreamEntry, String)] = []
        for entry in entries {
            do {
                let event = try RequestLogEvent(fields: entry.fields)
                switch settings.window.verdict(for: event, now: now) {
                case .inside: events.append(Decoded(entry: entry, event: event))
                case .pastRetention: rejected.append((entry, "started_at: before the \(settings.window.retentionDays)-day retention window"))
                case .future: rejected.append((entry, "started_at: more than a day in the future"))
                }
            } catch {
                rejected.append((entry, error.description))
            }
        }
        guard let outcome = await store(events) else { return }  // shutting down: leave the entries pending
        rejected += outcome.rejected
        for (entry, reason) in rejected {
            guard await deadLetter(entry, reason: reason) else { return }
        }
        let redis = self.redis
        let ids = entries.map(\.id)
        guard await retrying("acknowledge batch", {
            try await redis.xack(RequestLogStream.key, group: RequestLogStream.group, ids: ids)
        }) != nil else { return }
        acknowledged.add(entries.count, ordering: .relaxed)
        stored.increment(by: outcome.stored)
        duplicates.increment(by: events.count - outcome.stored - outcome.rejected.count)
        batchSizes.record(entries.count)
        batchDurations.recordNanoseconds(Int64((ContinuousClock.now - started).seconds * 1e9))
    }

    struct Decoded: Sendable {
        var entry: RedisStreamEntry
        var event: RequestLogEvent
    }

    private enum WriteResult: Sendable {
        case stored(Int)
        case refused(PostgresDataError)
    }

    /// Stores `batch`; when Postgres refuses it as data, splits it in halves until each refused entry is alone, so the
    /// good ones are committed and the bad ones come back with Postgres's reason. Nil only when stopping.
    private func store(_ batch: [Decoded]) async -> (stored: Int, rejected: [(RedisStreamEntry, String)])? {
        guard !batch.isEmpty else { return (0, []) }
        let writer = self.writer
        let events = batch.map(\.event)
        let result = await retrying("store batch in Postgres") { () async throws -> WriteResult in
            do {
                return .stored(try await writer.write(events))
            } catch {
                guard let refusal = PostgresDataError.find(in: error) else { throw error }
                return .refused(refusal)
            }
        }
        switch result {
        case nil:
            return nil
        case .stored(let count)?:
            return (count, [])
        case .refused(let refusal)?:
            if batch.count == 1 {
                refusedByPostgres.increment()
                return (0, [(batch[0].entry, refusal.description)])
            }
            let middle = batch.count / 2
            guard let first = await store(Array(batch[..<middle])), let second = await store(Array(batch[middle...])) else { return nil }
            return (first.stored + second.stored, first.rejected + second.rejected)
        }
    }

    /// Copies an entry to the dead-letter stream with the reason; false only when stopping.
    private func deadLetter(_ entry: RedisStreamEntry, reason: String) async -> Bool {
        let redis = self.redis
        let fields: [(String, String)] = [("original_id", entry.id), ("reason", reason)] + entry.fields.sorted { $0.key < $1.key }
        let added = await retrying("dead-letter entry") {
            try await redis.xadd(RequestLogStream.deadLetterKey, fields: fields, approximateMaxLength: 100_000)
        }
        guard added != nil else { return false }
        deadLetters.increment()
        logger.warning("Request-log entry moved to the dead-letter stream", metadata: ["entry_id": "\(entry.id)", "reason": "\(reason)"])
        return true
    }

    /// Trims entries every consumer has acknowledged — in one script, so an entry delivered but not yet acknowledged
    /// is never trimmed — and publishes lag and pending gauges.
    public func trim() async {
        do {
            let reply = try await redis.evaluate(Self.trimScript, keys: [RequestLogStream.key], arguments: [RequestLogStream.group])
            let parts = reply.array ?? []
            if let count = parts.first?.int { pending.record(count) }
            if parts.count > 2, let value = parts[2].int, value >= 0 { lag.record(value) }
        } catch {
            logger.warning("Could not trim the request-log stream", metadata: ["error": "\(error)"])
        }
    }

    /// KEYS: stream. ARGV: group. Trims below the oldest pending entry, or — with nothing pending — below the group's
    /// last delivered entry. Returns {pending count, trimmed, lag (-1 unknown)}.
    static let trimScript = RedisScript("""
        local ok, summary = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1])
        if not ok then return {0, 0, -1} end
        local count = summary[1]
        local minimum = nil
        if count > 0 then minimum = summary[2] end
        local lag = -1
        for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
            local info = {}
            for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
            if info['name'] == ARGV[1] then
                if minimum == nil then minimum = info['last-delivered-id'] end
                if type(info['lag']) == 'number' then lag = info['lag'] end
            end
        end
        local trimmed = 0
        if minimum and minimum ~= '0-0' then trimmed = redis.call('XTRIM', KEYS[1], 'MINID', minimum) end
        return {count, trimmed, lag}
        """)

    /// Runs `operation` until it succeeds, backing off between failures; nil only when the service is stopping.
    /// Each attempt has a deadline, so a wait without one of its own (a connection lease while Postgres refuses
    /// connections) is cancelled and retried instead of stalling the pipeline.
    private func retrying<T: Sendable>(_ what: String, _ operation: @escaping @Sendable () async throws -> T) async -> T? {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        var attempt = 0
        while true {
            do {
                return try await withDeadline(settings.attemptDeadline + settings.batchWait, operation)
            } catch {
                if stopping { return nil }
                if attempt == 0 || attempt % 20 == 0 {
                    logger.warning("Retrying: \(what)", metadata: ["error": "\(String(reflecting: error))", "attempt": "\(attempt + 1)"])
                }
                try? await Task.sleep(for: backoff.delay(attempt: attempt))
                attempt += 1
            }
        }
    }
}
