import Foundation

/// Exponentially decayed usage with half-life `H`, stored in the "grow the increment" form of DESIGN §5.1: a cost
/// charged at time `t` adds `cost · 2^((t − t0)/H)` to a stored value `V`, and the usage at `now` is
/// `V · 2^(−(now − t0)/H)`. Charging is one `HINCRBYFLOAT`; comparing tenants needs no decay step at all, because every
/// tenant shares `t0` and the common factor cancels. `t0` is moved forward (re-based) before the factors grow large.
public struct DecayedUsage: Sendable, Equatable {
    public var halfLife: Double
    /// The shared base time `t0`, seconds.
    public var epoch: Double

    /// Re-base when the growth factor passes 2^rebaseExponent, long before doubles lose precision.
    public static let rebaseExponent: Double = 32

    public init(halfLife: Double, epoch: Double) {
        precondition(halfLife > 0, "half-life must be positive")
        self.halfLife = halfLife
        self.epoch = epoch
    }

    /// The factor a cost charged at `time` is multiplied by.
    public func growth(at time: Double) -> Double {
        Foundation.pow(2, (time - epoch) / halfLife)
    }

    /// The stored increment for `cost` charged at `time`.
    public func increment(cost: Double, at time: Double) -> Double {
        cost * growth(at: time)
    }

    /// The decayed usage at `time` of a stored value.
    public func usage(stored: Double, at time: Double) -> Double {
        stored / growth(at: time)
    }

    public func needsRebase(at time: Double) -> Bool {
        (time - epoch) / halfLife >= Self.rebaseExponent
    }

    /// Moves `t0` to `time`: every stored value is divided by the same factor, so all orderings are preserved.
    public func rebased(_ stored: [String: Double], to time: Double) -> (usage: DecayedUsage, stored: [String: Double]) {
        let factor = growth(at: time)
        return (DecayedUsage(halfLife: halfLife, epoch: time), stored.mapValues { $0 / factor })
    }
}
