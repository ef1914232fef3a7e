import FairwayCore
import Foundation
import Logging
import Synchronization

/// The relay's in-memory view of configuration: the whole snapshot plus the API-key cache (DESIGN §3, §4).
///
/// Requests read the snapshot without waiting on anything; reloads swap it whole. Key-cache writes carry the
/// invalidation generation they started under, so a lookup that raced an invalidation cannot put the revoked answer
/// back. Concurrent misses for one key share one query, and misses beyond the lookup rate are refused (503) rather
/// than sent to Postgres.
public final class ConfigCache: Sendable {
    private struct KeyState: Sendable {
        var cache: KeyCache
        var generation: UInt64 = 0
        /// Lookups in flight, by key hash: later callers for the same hash wait on the first one's query.
        var inFlight: [String: Task<StoredKey?, any Error>] = [:]
    }

    /// A lookup that would reach Postgres was refused: over the per-relay lookup rate.
    public struct LookupThrottled: Error {}

    public let source: any ConfigSource
    private let logger: Logger
    private let current = Mutex<ConfigSnapshot>(.empty)
    private let keys: Mutex<KeyState>
    private let loaded = Atomic<Bool>(false)
    private let lookups: LookupRateLimiter
    private let freshness = VersionCheck()
    /// The reload a read-your-writes check started, shared by every caller that wants the same version.
    private let catchingUp = Mutex<(version: Int64, task: Task<ConfigSnapshot, any Error>)?>(nil)

    public init(
        source: any ConfigSource, keyCacheCapacity: Int, negativeKeyCacheCapacity: Int? = nil, positiveTTL: Duration,
        negativeTTL: Duration, lookupsPerSecond: Double = 500, logger: Logger
    ) {
        self.source = source
        self.logger = logger
        self.keys = Mutex(KeyState(cache: KeyCache(
            capacity: keyCacheCapacity, negativeCapacity: negativeKeyCacheCapacity, positiveTTL: positiveTTL, negativeTTL: negativeTTL
        )))
        self.lookups = LookupRateLimiter(perSecond: lookupsPerSecond)
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

    /// The snapshot as of now in Postgres: when `config_version` has moved past ours, reloads first. One version query
    /// at a time serves every caller (read-your-writes for a name the snapshot does not know yet).
    public func current() async -> ConfigSnapshot {
        let before = snapshot
        guard let version = await freshness.latest(from: source), version != before.version else { return before }
        let reload = catchingUp.withLock { running -> Task<ConfigSnapshot, any Error> in
            if let running, running.version == version { return running.task }
            let task = Task { try await self.reload() }
            running = (version, task)
            return task
        }
        do {
            return try await reload.value
        } catch {
            logger.warning("Configuration reload for a read-your-writes check failed", metadata: ["error": "\(error)"])
            return snapshot
        }
    }

    /// The route for `model`; a name the snapshot does not know is checked against Postgres before it is refused, so a
    /// model created through the management API is usable on every relay as soon as the API answered.
    func route(for model: String) async -> Route? {
        if let route = snapshot.route(for: model) { return route }
        return await current().route(for: model)
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

    private enum Cached {
        case answer(StoredKey?)
        case stale(StoredKey, UInt64)
        case shared(Task<StoredKey?, any Error>)
        case miss(UInt64)
    }

    /// The stored key for `hash`: from the cache, else from the source. Throws when the source failed and there was no
    /// earlier answer to fall back to, or (``LookupThrottled``) when the lookup rate is used up.
    func storedKey(hash: String) async throws -> StoredKey? {
        let now = ContinuousClock.now
        let cached = keys.withLock { state -> Cached in
            switch state.cache.lookup(hash: hash, now: now) {
            case .fresh(let key): return .answer(key)
            case .stale(let key): return .stale(key, state.generation)
            case .miss: return state.inFlight[hash].map(Cached.shared) ?? .miss(state.generation)
            }
        }
        switch cached {
        case .answer(let key):
            return key
        case .shared(let lookup):
            return try await lookup.value
        case .stale(let key, let generation):
            do {
                return try await fetch(hash: hash, generation: generation)
            } catch {
                logger.warning("Key refresh failed; serving the cached answer", metadata: ["error": "\(error)"])
                return key
            }
        case .miss(let generation):
            return try await fetch(hash: hash, generation: generation)
        }
    }

    /// One query for `hash`, shared with every caller that misses while it runs.
    private func fetch(hash: String, generation: UInt64) async throws -> StoredKey? {
        let started = keys.withLock { state -> (Task<StoredKey?, any Error>, Bool) in
            if let running = state.inFlight[hash] { return (running, false) }
            let lookup = Task<StoredKey?, any Error> { [source, lookups] in
                guard lookups.allow() else { throw LookupThrottled() }
                return try await source.key(hash: hash)
            }
            state.inFlight[hash] = lookup
            return (lookup, true)
        }
        let (lookup, owner) = started
        guard owner else { return try await lookup.value }
        let result = await lookup.result
        keys.withLock { state in
            state.inFlight[hash] = nil
            if state.generation == generation, case .success(let key) = result {
                state.cache.store(hash: hash, key: key, now: .now)
            }
        }
        return try result.get()
    }
}

/// Reads `config_version` for read-your-writes checks, one query at a time. Callers that arrive while a query runs
/// wait for the next one — which starts after they arrived, so it sees every write committed before their request —
/// and share it: a flood of unknown names costs one query per round trip, not one per request.
final class VersionCheck: Sendable {
    private struct State {
        var running = false
        var waiting: [CheckedContinuation<Int64?, Never>] = []
    }

    private let state = Mutex(State())

    func latest(from source: any ConfigSource) async -> Int64? {
        await withCheckedContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiting.append(continuation)
                defer { state.running = true }
                return !state.running
            }
            if start { Task { await self.serve(source) } }
        }
    }

    private func serve(_ source: any ConfigSource) async {
        while true {
            let round = state.withLock { state -> [CheckedContinuation<Int64?, Never>] in
                defer { state.waiting.removeAll() }
                if state.waiting.isEmpty { state.running = false }
                return state.waiting
            }
            guard !round.isEmpty else { return }
            let version = try? await source.currentVersion()
            for continuation in round { continuation.resume(returning: version) }
        }
    }
}
