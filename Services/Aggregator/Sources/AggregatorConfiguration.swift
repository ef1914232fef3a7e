import FairwayCore
import FairwayRuntime

/// Everything `fairway-aggregator` reads from its environment.
public struct AggregatorConfiguration: Sendable {
    public static let defaultPort = 8082

    public var common: CommonSettings
    public var ingest: IngestSettings
    /// Stream consumers in this process (`FAIRWAY_CONSUMERS`): while one commits a batch, another reads and decodes
    /// the next, which roughly doubles throughput on two cores. Each is its own member of the consumer group.
    public var consumers: Int
    /// Day partitions of `request_logs` kept ready ahead of today (`FAIRWAY_PARTITION_DAYS_AHEAD`).
    public var partitionDaysAhead: Int
    /// Days of request logs kept; older day partitions are dropped (`FAIRWAY_LOG_RETENTION_DAYS`).
    public var logRetentionDays: Int

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.common = try CommonSettings(environment: environment, defaultPort: Self.defaultPort)
        self.ingest = try IngestSettings(environment: environment, defaultConsumerName: ProcessIdentity.hostnameAndPID(fallback: "aggregator"))
        self.consumers = try environment.int("FAIRWAY_CONSUMERS", default: 2, in: 1...16)
        self.partitionDaysAhead = try environment.int("FAIRWAY_PARTITION_DAYS_AHEAD", default: 7, in: 1...366)
        self.logRetentionDays = try environment.int("FAIRWAY_LOG_RETENTION_DAYS", default: 30, in: 1...3660)
    }
}
