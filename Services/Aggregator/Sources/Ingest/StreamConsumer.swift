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
            if !claim.entries.isEmpty {
                logger.info("Reclaimed pending entries", metadata: ["count": "\(claim.entries.count)"])
                await process(claim.entries)
            }
            start = claim.nextStart
        } while start != "0-0" && !stopping
    }

    func process(_ entries: [RedisStreamEntry]) async {
        let redis = self.redis
        let writer = self.writer
        let started = ContinuousClock.now
        var events: [RequestLogEvent] = []
        var poison: [(RedisStreamEntry, String)] = []
        for entry in entries {
            do {
                events.append(try RequestLogEvent(fields: entry.fields))
            } catch {
                poison.append((entry, error.description))
            }
        }
        for (entry, reason) in poison {
            let fields: [(String, String)] = [("original_id", entry.id), ("reason", reason)]
                + entry.fields.sorted { $0.key < $1.key }
            let added = await retrying("dead-letter entry") {
                try await redis.xadd(RequestLogStream.deadLetterKey, fields: fields, approximateMaxLength: 100_000)
            }
            guard added != nil else { return }
            deadLetters.increment()
            logger.warning("Undecodable request-log entry moved to the dead-letter stream", metadata: [
                "entry_id": "\(entry.id)", "reason": "\(reason)",
            ])
        }
        let decoded = events
        guard let storedCount = await retrying("store batch in Postgres", { try await writer.write(decoded) }) else {
            return  // shutting down: leave the entries pending for redelivery
        }
        let ids = entries.map(\.id)
        guard await retrying("acknowledge batch", {
            try await redis.xack(RequestLogStream.key, group: RequestLogStream.group, ids: ids)
        }) != nil else { return }
        acknowledged.add(entries.count, ordering: .relaxed)
        stored.increment(by: storedCount)
        duplicates.increment(by: events.count - storedCount)
        batchSizes.record(entries.count)
        batchDurations.recordNanoseconds(Int64((ContinuousClock.now - started).seconds * 1e9))
    }

    /// Trims entries every consumer has acknowledged, and publishes lag and pending gauges.
    func trim() async {
        do {
            let summary = try await redis.send(RedisCommand("XPENDING", RequestLogStream.key, RequestLogStream.group))
            let parts = summary.array ?? []
            let pendingCount = parts.first?.int ?? 0
            pending.record(pendingCount)
            var minimum: String?
            if pendingCount > 0, parts.count > 1 {
                minimum = parts[1].string
            }
            let groups = try await redis.send(RedisCommand("XINFO", "GROUPS", RequestLogStream.key)).array ?? []
            for group in groups {
                let pairs = group.array ?? []
                var info: [String: RESPValue] = [:]
                var index = 0
                while index + 1 < pairs.count {
                    if let key = pairs[index].string { info[key] = pairs[index + 1] }
                    index += 2
                }
                guard info["name"]?.string == RequestLogStream.group else { continue }
                if let value = info["lag"]?.int { lag.record(value) }
                if minimum == nil { minimum = info["last-delivered-id"]?.string }
            }
            if let minimum, minimum != "0-0" {
                try await redis.xtrim(RequestLogStream.key, minID: minimum)
            }
        } catch {
            logger.warning("Could not trim the request-log stream", metadata: ["error": "\(error)"])
        }
    }

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
