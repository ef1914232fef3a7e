import FairShare
import Foundation
import Synchronization

/// Bounds how many key lookups per second one relay sends to Postgres (cache misses: unknown keys past the negative
/// cache, new keys), so a flood of random keys cannot saturate the database. A lookup over the rate is answered 503
/// with `Retry-After` — never 401, which would tell a client with a real key that it was revoked.
public final class LookupRateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>
    public let perSecond: Double

    /// - Parameters:
    ///   - perSecond: sustained lookups a second; bursts up to twice that.
    public init(perSecond: Double) {
        self.perSecond = perSecond
        // Two seconds' worth, refilled over two seconds: `perSecond` sustained.
        self.bucket = Mutex(TokenBucket(capacity: perSecond * 2, period: 2, now: Date().timeIntervalSince1970))
    }

    /// Takes one lookup; false when over the rate.
    public func allow() -> Bool {
        let now = Date().timeIntervalSince1970
        return bucket.withLock { $0.reserve(1, now: now) == nil }
    }
}
