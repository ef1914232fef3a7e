import FairShare
import FairwayCore
import FairwayRuntime

/// Everything `fairway-relay` reads from its environment (defaults in the README).
public struct RelayConfiguration: Sendable {
    public static let defaultPort = 8080

    public var common: CommonSettings
    /// Name in logs and request-log events; defaults to hostname + pid so replicas are told apart.
    public var relayID: String
    public var keyCacheSize: Int
    public var keyCacheTTL: Duration
    public var keyNegativeTTL: Duration
    public var configPollInterval: Duration
    public var maxBodyBytes: Int
    public var defaultMaxTokens: Int
    public var upstreamConnectTimeout: Duration
    public var upstreamFirstByteTimeout: Duration
    /// `FAIRWAY_UPSTREAM_CA_FILE`: a PEM file of certificate authorities https upstreams may be signed by, besides the
    /// system's.
    public var upstreamCAFile: String?
    public var cooldownFailures: Int
    public var cooldownDuration: Duration
    public var eventBufferSize: Int
    /// How long the request-log emitter waits for more events before a send (`FAIRWAY_EVENT_LINGER`).
    public var eventLinger: Duration
    /// The request-log spill file (used only while Redis is unreachable); keep it on a volume that survives restarts.
    public var spillPath: String
    /// `FAIRWAY_DRAIN_TIMEOUT`: how long a stopping relay lets requests finish before it cancels them.
    public var drainTimeout: Duration
    /// `FAIRWAY_AUTH_LOOKUPS_PER_SECOND`: key lookups this relay may send to Postgres per second.
    public var authLookupsPerSecond: Double
    /// `FAIRWAY_KEY_NEGATIVE_CACHE_SIZE`: unknown keys remembered (their own LRU, so they cannot evict known keys).
    public var negativeKeyCacheSize: Int
    /// `FAIRWAY_CACHE_MAX_ENTRY_BYTES`: answers larger than this are not cached.
    public var cacheMaxEntryBytes: Int

    public var admission: AdmissionSettings

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.common = try CommonSettings(environment: environment, defaultPort: Self.defaultPort)
        self.relayID = environment.string("FAIRWAY_RELAY_ID") ?? ProcessIdentity.hostnameAndPID(fallback: "relay")
        self.keyCacheSize = try environment.int("FAIRWAY_KEY_CACHE_SIZE", default: 100_000, in: 1...10_000_000)
        self.keyCacheTTL = try environment.seconds("FAIRWAY_KEY_CACHE_TTL", default: .seconds(60), in: 0.1...86_400)
        self.keyNegativeTTL = try environment.seconds("FAIRWAY_KEY_NEGATIVE_TTL", default: .seconds(5), in: 0.1...3600)
        self.configPollInterval = try environment.seconds("FAIRWAY_CONFIG_POLL_INTERVAL", default: .seconds(2), in: 0.05...300)
        self.maxBodyBytes = try environment.int("FAIRWAY_MAX_BODY_BYTES", default: 8 << 20, in: 1024...(1 << 30))
        self.defaultMaxTokens = try environment.int("FAIRWAY_DEFAULT_MAX_TOKENS", default: 1024, in: 1...10_000_000)
        self.upstreamConnectTimeout = try environment.seconds("FAIRWAY_UPSTREAM_CONNECT_TIMEOUT", default: .seconds(5), in: 0.05...600)
        self.upstreamFirstByteTimeout = try environment.seconds("FAIRWAY_UPSTREAM_FIRST_BYTE_TIMEOUT", default: .seconds(120), in: 0.05...3600)
        self.upstreamCAFile = environment.string("FAIRWAY_UPSTREAM_CA_FILE")
        self.cooldownFailures = try environment.int("FAIRWAY_COOLDOWN_FAILURES", default: 3, in: 1...1000)
        self.cooldownDuration = try environment.seconds("FAIRWAY_COOLDOWN_SECS", default: .seconds(30), in: 0.1...86_400)
        self.eventBufferSize = try environment.int("FAIRWAY_EVENT_BUFFER", default: 50_000, in: 1...10_000_000)
        self.eventLinger = try environment.seconds("FAIRWAY_EVENT_LINGER", default: .milliseconds(5), in: 0...1)
        let spillDirectory = environment.string("FAIRWAY_SPILL_DIR", default: "/tmp/fairway-spill")
        self.spillPath = environment.string("FAIRWAY_SPILL_FILE") ?? SpillFileLocation.claim(
            directory: spillDirectory, name: environment.string("FAIRWAY_RELAY_ID") ?? ProcessIdentity.hostname(fallback: "relay")
        )
        self.drainTimeout = try environment.seconds("FAIRWAY_DRAIN_TIMEOUT", default: .seconds(25), in: 0...3600)
        self.authLookupsPerSecond = Double(try environment.int("FAIRWAY_AUTH_LOOKUPS_PER_SECOND", default: 500, in: 1...1_000_000))
        self.negativeKeyCacheSize = try environment.int("FAIRWAY_KEY_NEGATIVE_CACHE_SIZE", default: 10_000, in: 1...10_000_000)
        self.cacheMaxEntryBytes = try environment.int("FAIRWAY_CACHE_MAX_ENTRY_BYTES", default: 1 << 20, in: 1...(64 << 20))
        let halfLife = try environment.seconds("FAIRWAY_FAIRSHARE_HALF_LIFE", default: .seconds(300), in: 1...86_400 * 30)
        self.admission = AdmissionSettings(
            halfLife: halfLife.seconds,
            mode: try environment.oneOf("FAIRWAY_FAIRSHARE_MODE", default: FairShareCalculator.Mode.hierarchical),
            queueTimeout: try environment.seconds("FAIRWAY_QUEUE_TIMEOUT", default: .seconds(30), in: 0.01...3600),
            maxQueueLength: try environment.int("FAIRWAY_MAX_QUEUE_LENGTH", default: 1000, in: 1...1_000_000),
            leaseTTL: try environment.seconds("FAIRWAY_LEASE_TTL", default: .seconds(30), in: 1...3600),
            pollInterval: try environment.seconds("FAIRWAY_ADMISSION_POLL_INTERVAL", default: .milliseconds(100), in: 0.005...10),
            viewRefresh: try environment.seconds("FAIRWAY_FAIRSHARE_REFRESH", default: .milliseconds(250), in: 0.01...60),
            replicasHint: try environment.int("FAIRWAY_RELAY_REPLICAS_HINT", default: 1, in: 1...10_000),
            slotPoolIdle: try environment.seconds("FAIRWAY_SLOT_POOL_IDLE", default: .milliseconds(100), in: 0...0.9)
        )
    }

    public var relaySettings: RelaySettings {
        RelaySettings(
            relayID: relayID, maxBodyBytes: maxBodyBytes, defaultMaxTokens: defaultMaxTokens, firstByteTimeout: upstreamFirstByteTimeout,
            cacheMaxEntryBytes: cacheMaxEntryBytes
        )
    }
}
