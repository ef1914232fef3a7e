/// A token bucket refilled continuously: `capacity` tokens, `capacity` per `period` (a minute for TPM quotas).
///
/// The Redis Lua script of the same name is the shared implementation; this type is its reference, used for local
/// admission while Redis is unreachable and by the tests that pin the arithmetic down.
public struct TokenBucket: Sendable, Equatable {
    public var capacity: Double
    public var period: Double
    public private(set) var tokens: Double
    public private(set) var updatedAt: Double

    public init(capacity: Double, period: Double = 60, now: Double) {
        self.capacity = capacity
        self.period = period
        self.tokens = capacity
        self.updatedAt = now
    }

    public var ratePerSecond: Double { capacity / period }

    public mutating func refill(now: Double) {
        guard now > updatedAt else { return }
        tokens = min(capacity, tokens + (now - updatedAt) * ratePerSecond)
        updatedAt = now
    }

    /// Takes `amount` (at most the capacity, so an oversized request can still pass on a full bucket) or, when there
    /// is not enough, returns the seconds until there will be.
    public mutating func reserve(_ amount: Double, now: Double) -> Double? {
        refill(now: now)
        let needed = min(amount, capacity)
        if tokens >= needed {
            tokens -= needed
            return nil
        }
        return (needed - tokens) / ratePerSecond
    }

    /// Settles a reservation with the real amount: a refund when it was smaller, a further charge (possibly into debt)
    /// when larger.
    public mutating func settle(reserved: Double, actual: Double, now: Double) {
        refill(now: now)
        tokens = min(capacity, tokens + min(reserved, capacity) - actual)
    }
}
