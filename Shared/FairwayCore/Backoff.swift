/// Exponential backoff with full jitter, used wherever a service retries a dependency (Redis reconnects, Postgres
/// retries, stream consumers). Jitter keeps a fleet of relays from reconnecting in lock-step after an outage.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The upper bound of the delay before retry number `attempt` (0-based), without jitter.
    public func ceiling(attempt: Int) -> Duration {
        let initialSeconds = initial.seconds
        let grown = initialSeconds * pow2(multiplier, Swift.min(attempt, 62))
        return .seconds(Swift.min(grown, maximum.seconds))
    }

    /// A jittered delay in `[ceiling/2, ceiling]`, so retries spread out but never collapse to zero.
    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Duration {
        let ceiling = self.ceiling(attempt: attempt).seconds
        return .seconds(Double.random(in: (ceiling / 2)...ceiling, using: &generator))
    }

    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    private func pow2(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent {
            result *= base
            if result > 1e12 { break }
        }
        return result
    }
}
