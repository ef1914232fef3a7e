import Foundation
import Logging
import Metrics
import PostgresNIO

/// `fairway-aggregator rebuild`: recomputes `daily_spend` for whole days from `request_logs`, one transaction per day.
///
/// It holds the rollup lock exclusively while it works on a day, so live ingestion (which holds it shared) pauses for
/// that moment instead of adding to rows that are being replaced.
public struct SpendRebuild: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A day whose `request_logs` partition retention has dropped: rebuilding it would wipe its rollups.
    public struct PartitionGone: Error, CustomStringConvertible {
        public var days: [String]
        public var description: String {
            "no request logs are kept for \(days.joined(separator: ", ")) (dropped by retention); their rollups were left as they are"
        }
    }

    /// Rebuilds each day from `from` to `to` (inclusive, `yyyy-MM-dd`); returns the rollup rows written per day.
    /// Refuses, before touching anything, when a day's partition is gone.
    public func rebuild(days: [String]) async throws -> [String: Int] {
        let gone = try await missingPartitions(days)
        guard gone.isEmpty else { throw PartitionGone(days: gone) }
        var written: [String: Int] = [:]
        let timer = Timer(label: "fairway_aggregator_rebuild_duration_seconds")
        for day in days {
            let started = ContinuousClock.now
            written[day] = try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query("SELECT pg_advisory_xact_lock(\(RequestLogWriter.rollupLockKey))", logger: logger)
                _ = try await connection.query("DELETE FROM daily_spend WHERE day = \(day)::date", logger: logger)
                var count = 0
                for try await _ in try await connection.query(
                    """
                    INSERT INTO daily_spend (
                        day, tenant_id, api_key_id, model_name, deployment_id, requests, succeeded, failed, cache_hits,
                        prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms_sum)
                    SELECT \(day)::date, tenant_id, api_key_id, model_name, deployment_id, count(*),
                           count(*) FILTER (WHERE status_code < 400), count(*) FILTER (WHERE status_code >= 400),
                           count(*) FILTER (WHERE cache_hit), sum(prompt_tokens), sum(completion_tokens),
                           sum(cached_tokens), sum(cost_usd), sum(latency_ms)
                    FROM request_logs
                    WHERE started_at >= (\(day)::date)::timestamp AT TIME ZONE 'UTC'
                      AND started_at < (\(day)::date + 1)::timestamp AT TIME ZONE 'UTC'
                    GROUP BY tenant_id, api_key_id, model_name, deployment_id
                    RETURNING 1
                    """,
                    logger: logger
                ) {
                    count += 1
                }
                return count
            }
            timer.recordNanoseconds(Int64((ContinuousClock.now - started).seconds * 1e9))
            logger.info("Rebuilt daily spend", metadata: ["day": "\(day)", "rows": "\(written[day] ?? 0)"])
        }
        return written
    }

    /// The days among `days` whose `request_logs_YYYYMMDD` partition does not exist.
    func missingPartitions(_ days: [String]) async throws -> [String] {
        var missing: [String] = []
        for day in days {
            let name = "request_logs_" + day.replacingOccurrences(of: "-", with: "")
            var exists = false
            for try await present in try await client.query("SELECT to_regclass(\(name)) IS NOT NULL", logger: logger).decode(Bool.self) {
                exists = present
            }
            if !exists { missing.append(day) }
        }
        return missing
    }

    /// The days from `from` to `to` inclusive; nil when a date is malformed, `to` is before `from`, or the range
    /// exceeds `maximumDays`.
    public static func days(from: String, to: String, maximumDays: Int = 366) -> [String]? {
        guard let start = parse(from), let end = parse(to), start <= end else { return nil }
        var days: [String] = []
        var day = start
        while day <= end {
            days.append(format(day))
            guard days.count <= maximumDays else { return nil }
            day = day.addingTimeInterval(86_400)
        }
        return days
    }

    static func parse(_ text: String) -> Date? {
        guard text.count == 10 else { return nil }
        return try? Date.ISO8601FormatStyle().year().month().day().parse(text)
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}
