import FairwayCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Keeps `request_logs` day partitions ready ahead of time and drops the ones past retention (rollups stay).
///
/// Every aggregator runs it; a transaction-level advisory lock makes sure only one does the work at a time.
public struct PartitionMaintainer: Service {
    static let lockKey: Int64 = 0x6661_6972_7061_7274

    let client: PostgresClient
    let daysAhead: Int
    let retentionDays: Int
    let interval: Duration
    let logger: Logger

    public init(client: PostgresClient, daysAhead: Int, retentionDays: Int, interval: Duration = .seconds(3600), logger: Logger) {
        self.client = client
        self.daysAhead = daysAhead
        self.retentionDays = retentionDays
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if let dropped = try await maintain() {
                    logger.info("Request-log partitions maintained", metadata: ["dropped": "\(dropped)", "days_ahead": "\(daysAhead)"])
                }
            } catch {
                logger.warning("Partition maintenance failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One round; returns the number of partitions dropped, or nil when another aggregator holds the lock.
    public func maintain() async throws -> Int? {
        try await client.withTransaction(logger: logger) { connection in
            var locked = false
            for try await value in try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(Self.lockKey))", logger: logger
            ).decode(Bool.self) {
                locked = value
            }
            guard locked else { return nil }
            _ = try await connection.query(
                """
                SELECT request_logs_ensure_partition((now() AT TIME ZONE 'UTC')::date + offset_days::int)
                FROM generate_series(-1, \(daysAhead)::int) AS offset_days
                """,
                logger: logger
            )
            var dropped = 0
            for try await value in try await connection.query(
                "SELECT request_logs_drop_partitions_before((now() AT TIME ZONE 'UTC')::date - \(retentionDays)::int)",
                logger: logger
            ).decode(Int.self) {
                dropped = value
            }
            return dropped
        }
    }
}
