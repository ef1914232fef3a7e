/// The relay's answer cache for API-key lookups (DESIGN §3): known keys for a positive TTL, unknown ones for a short
/// negative TTL so unknown-key floods do not reach Postgres.
///
/// Pure state; time is passed in so tests can move it. An expired positive entry is kept (as `stale`) so the relay can
/// keep serving a known key while Postgres is down.
public struct KeyCache: Sendable {
    public enum Lookup: Sendable, Equatable {
        case fresh(StoredKey?)
        /// Known but past its TTL: refresh, and fall back to it if the refresh fails.
        case stale(StoredKey)
        case miss
    }

    private struct Entry: Sendable {
        var key: StoredKey?
        var expires: ContinuousClock.Instant
    }

    public let positiveTTL: Duration
    public let negativeTTL: Duration
    private var entries: LRUCache<String, Entry>

    public init(capacity: Int, positiveTTL: Duration = .seconds(60), negativeTTL: Duration = .seconds(5)) {
        self.positiveTTL = positiveTTL
        self.negativeTTL = negativeTTL
        self.entries = LRUCache(capacity: capacity)
    }

    public var count: Int { entries.count }

    public mutating func lookup(hash: String, now: ContinuousClock.Instant) -> Lookup {
        guard let entry = entries.get(hash) else { return .miss }
        if now < entry.expires { return .fresh(entry.key) }
        if let key = entry.key { return .stale(key) }
        entries.remove(hash)
        return .miss
    }

    public mutating func store(hash: String, key: StoredKey?, now: ContinuousClock.Instant) {
        entries.set(hash, Entry(key: key, expires: now + (key == nil ? negativeTTL : positiveTTL)))
    }

    public mutating func invalidate(hash: String) {
        entries.remove(hash)
    }

    public mutating func invalidateAll() {
        entries.removeAll()
    }
}
