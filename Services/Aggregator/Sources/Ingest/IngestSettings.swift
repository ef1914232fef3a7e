import FairwayCore

/// How the aggregator reads the request-log stream; each field has a `FAIRWAY_…` variable (see the README).
public struct IngestSettings: Sendable {
    /// Consumer name in the group; stable names (pod names) let a restarted aggregator resume its own pending entries.
    public var consumerName: String
    /// Most entries per XREADGROUP, and so per Postgres transaction (`FAIRWAY_BATCH_SIZE`); batches are this large
    /// only when a backlog has built up.
    public var batchSize: Int
    /// How long one XREADGROUP blocks waiting for entries (`FAIRWAY_BATCH_WAIT`).
    public var batchWait: Duration
    /// Entries pending longer than this on another consumer are taken over (`FAIRWAY_RECLAIM_IDLE`).
    public var reclaimIdle: Duration
    /// How often acknowledged entries are trimmed from the stream.
    public var trimInterval: Duration
    /// Longest one Redis or Postgres step may take before it is abandoned and retried.
    public var attemptDeadline: Duration
    /// Days still stored (`FAIRWAY_LOG_RETENTION_DAYS`): events outside are dead-lettered.
    public var window: IngestWindow

    public init(
        consumerName: String,
        batchSize: Int = 5000,
        batchWait: Duration = .seconds(1),
        reclaimIdle: Duration = .seconds(60),
        trimInterval: Duration = .seconds(30),
        attemptDeadline: Duration = .seconds(30),
        retentionDays: Int = 30
    ) {
        self.consumerName = consumerName
        self.batchSize = batchSize
        self.batchWait = batchWait
        self.reclaimIdle = reclaimIdle
        self.trimInterval = trimInterval
        self.attemptDeadline = attemptDeadline
        self.window = IngestWindow(retentionDays: retentionDays)
    }

    public init(environment: EnvironmentReader, defaultConsumerName: String) throws(ConfigurationError) {
        self.init(
            consumerName: environment.string("FAIRWAY_CONSUMER_NAME", default: defaultConsumerName),
            batchSize: try environment.int("FAIRWAY_BATCH_SIZE", default: 5000, in: 1...10_000),
            batchWait: try environment.seconds("FAIRWAY_BATCH_WAIT", default: .seconds(1), in: 0.01...60),
            reclaimIdle: try environment.seconds("FAIRWAY_RECLAIM_IDLE", default: .seconds(60), in: 0.1...86_400),
            trimInterval: try environment.seconds("FAIRWAY_TRIM_INTERVAL", default: .seconds(30), in: 1...86_400),
            retentionDays: try environment.int("FAIRWAY_LOG_RETENTION_DAYS", default: 30, in: 1...3660)
        )
    }
}
