import FairwayCore
import Foundation
import Logging
import Synchronization

/// The relay's in-memory view of configuration: the whole snapshot plus the API-key cache (DESIGN §3, §4).
///
/// Requests read the snapshot without waiting on anything; reloads swap it whole. Key-cache writes carry the
/// invalidation generation they started under, so a lookup that raced an invalidation cannot put the revoked answer
/// back.
public final class ConfigCache: Sendable {
    private struct KeyState: Sendable {
        var cache: KeyCache
        var generation: UInt64 = 0
    }

    public let source: any ConfigSource
    private let logger: Logger
    private let current = Mutex<ConfigSnapshot>(.empty)
    private let keys: Mutex<KeyState>
    private let loaded = Atomic<Bool>(false)

    public init(source: any ConfigSource, keyCacheCapacity: Int, positiveTTL: Duration, negativeTTL: Duration, logger: Logger) {
        self.source = source
        self.logger = logger
        self.keys = Mutex(KeyState(cache: KeyCache(capacity: keyCacheCapacity, positiveTTL: positiveTTL, negativeTTL: negativeTTL)))
    }

    public var snapshot: ConfigSnapshot { current.withLock { $0 } }

    /// True once a snapshot was loaded; the relay is not ready before.
    public var isLoaded: Bool { loaded.load(ordering: .acquiring) }

    /// Loads a fresh snapshot and forgets every cached key answer (the change may have been to any key).
    @discardableResult
    public func reload() async throws -> ConfigSnapshot {
        let snapshot = try await source.loadSnapshot()
        current.withLock { $0 = snapshot }
        invalidateAllKeys()
        loaded.store(true, ordering: .releasing)
        return snapshot
    }

    public func invalidateKey(hash: String) {
        keys.withLock { state in
            state.generation &+= 1
            state.cache.invalidate(hash: hash)
        }
    }

    public func invalidateAllKeys() {
        keys.withLock { state in
            state.generation &+= 1
            state.cache.invalidateAll()
        }
    }

    /// The stored key for `hash`: from the cache, else from the source. Throws only when the source failed and there
    /// was no earlier answer to fall back to.
    func storedKey(hash: String) async throws -> StoredKey? {
        let now = ContinuousClock.now
        let (lookup, generation) = keys.withLock { state in (state.cache.lookup(hash: hash, now: now), state.generation) }
        switch lookup {
        case .fresh(let key):
            return key
        case .stale(let key):
            do {
                let fetched = try await source.key(hash: hash)
                remember(hash: hash, key: fetched, generation: generation)
                return fetched
            } catch {
                logger.warning("Key refresh failed; serving the cached answer", metadata: ["error": "\(error)"])
                return key
            }
        case .miss:
            let fetched = try await source.key(hash: hash)
            remember(hash: hash, key: fetched, generation: generation)
            return fetched
        }
    }

    private func remember(hash: String, key: StoredKey?, generation: UInt64) {
        keys.withLock { state in
            guard state.generation == generation else { return }
            state.cache.store(hash: hash, key: key, now: .now)
        }
    }
}
