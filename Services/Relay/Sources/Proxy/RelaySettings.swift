/// Tuning of the request path, from `FAIRWAY_*` variables (see ``RelayConfiguration``).
public struct RelaySettings: Sendable {
    public var relayID: String
    public var maxBodyBytes: Int
    public var maxResponseBytes: Int
    /// `max_tokens` assumed for the estimate when a request sends none.
    public var defaultMaxTokens: Int
    /// Longest wait for an upstream's response head (capped by the deployment's own timeout).
    public var firstByteTimeout: Duration
    /// Answers larger than this are not cached.
    public var cacheMaxEntryBytes: Int

    public init(
        relayID: String, maxBodyBytes: Int = 8 << 20, maxResponseBytes: Int = 64 << 20, defaultMaxTokens: Int = 1024,
        firstByteTimeout: Duration = .seconds(120), cacheMaxEntryBytes: Int = 1 << 20
    ) {
        self.cacheMaxEntryBytes = cacheMaxEntryBytes
        self.relayID = relayID
        self.maxBodyBytes = maxBodyBytes
        self.maxResponseBytes = maxResponseBytes
        self.defaultMaxTokens = defaultMaxTokens
        self.firstByteTimeout = firstByteTimeout
    }
}
