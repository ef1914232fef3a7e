/// The relay's answer cache for API-key lookups (DESIGN §3): known keys for a positive TTL, unknown ones for a short
/// negative TTL so unknown-key floods do not reach Postgres.
///
/// Unknown keys live in an LRU of their own, so a flood of random keys evicts only other unknown keys, never the
/// valid ones. Pure state; time is passed in so tests can move it. An expired positive entry is kept (as `stale`) so
/// the relay can keep serving a known key while Postgres is down.
public struct KeyCache: Sendable {
    public enum Lookup: Sendable, Equatable {
        case fresh(StoredKey?)
        /// Known but past its TTL: refresh, and fall back to it if the refresh fails.
        case stale(StoredKey)
        case miss
    }

    private struct Entry<Value: Sendable>: Sendable {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    public let positiveTTL: Duration
    public let negativeTTL: Duration
    private var known: LRUCache<String, Entry<StoredKey>>
    private var unknown: LRUCache<String, Entry<Void>>

    /// - Parameters:
    ///   - capacity: known keys kept.
    ///   - negativeCapacity: unknown keys kept (default: a tenth of `capacity`, at least 1,000).
    public init(capacity: Int, negativeCapacity: Int? = nil, positiveTTL: Duration = .seconds(60), negativeTTL: Duration = .seconds(5)) {
        self.positiveTTL = positiveTTL
        self.negativeTTL = negativeTTL
        self.known = LRUCache(capacity: capacity)
        self.unknown = LRUCache(capacity: negativeCapacity ?? max(1000, capacity / 10))
    }

    public var count: Int { known.count + unknown.count }

    public mutating func lookup(hash: String, now: ContinuousClock.Instant) -> Lookup {
        if let entry = known.get(hash) {
            return now < entry.expires ? .fresh(entry.value) : .stale(entry.value)
        }
        if let entry = unknown.get(hash) {
            if now < entry.expires { return .fresh(nil) }
            unknown.remove(hash)
        }
        return .miss
    }

    public mutating func store(hash: String, key: StoredKey?, now: ContinuousClock.Instant) {
        if let key {
            unknown.remove(hash)
            known.set(hash, Entry(value: key, expires: now + positiveTTL))
        } else {
            known.remove(hash)
            unknown.set(hash, Entry(value: (), expires: now + negativeTTL))
        }
    }

    public mutating func invalidate(hash: String) {
        known.remove(hash)
        unknown.remove(hash)
    }

    public mutating func invalidateAll() {
        known.removeAll()
        unknown.removeAll()
    }
}
