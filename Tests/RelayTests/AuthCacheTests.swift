import Foundation
import Relay
import Testing

@Suite("Key cache")
struct AuthCacheTests {
    let key = StoredKey(id: UUID(), tenantID: UUID())

    @Test func positiveAndNegativeEntriesExpireOnTheirOwnTTL() {
        var cache = KeyCache(capacity: 10, positiveTTL: .seconds(60), negativeTTL: .seconds(5))
        let start = ContinuousClock.now
        cache.store(hash: "known", key: key, now: start)
        cache.store(hash: "unknown", key: nil, now: start)
        #expect(cache.lookup(hash: "known", now: start + .seconds(4)) == .fresh(key))
        #expect(cache.lookup(hash: "unknown", now: start + .seconds(4)) == .fresh(nil))
        #expect(cache.lookup(hash: "unknown", now: start + .seconds(6)) == .miss)
        // A known key past its TTL stays available as a fallback while Postgres is unreachable.
        #expect(cache.lookup(hash: "known", now: start + .seconds(61)) == .stale(key))
        cache.invalidate(hash: "known")
        #expect(cache.lookup(hash: "known", now: start) == .miss)
    }

    @Test func theLeastRecentlyUsedEntryIsEvictedAtCapacity() {
        var cache = LRUCache<String, Int>(capacity: 3)
        cache.set("a", 1)
        cache.set("b", 2)
        cache.set("c", 3)
        _ = cache.get("a")
        cache.set("d", 4)
        #expect(cache.get("b") == nil)
        #expect(cache.get("a") == 1)
        #expect(cache.get("c") == 3)
        #expect(cache.get("d") == 4)
        #expect(cache.count == 3)
        for index in 0..<1000 { cache.set("k\(index)", index) }
        #expect(cache.count == 3)
        #expect(cache.get("k999") == 999)
    }

    @Test func expiredAndDisabledKeysAreNotUsable() {
        let now: Int64 = 1_000_000
        #expect(StoredKey(id: UUID(), tenantID: UUID()).isUsable(atMicroseconds: now))
        #expect(!StoredKey(id: UUID(), tenantID: UUID(), disabled: true).isUsable(atMicroseconds: now))
        #expect(!StoredKey(id: UUID(), tenantID: UUID(), expiresAt: now).isUsable(atMicroseconds: now))
        #expect(StoredKey(id: UUID(), tenantID: UUID(), expiresAt: now + 1).isUsable(atMicroseconds: now))
    }
}
