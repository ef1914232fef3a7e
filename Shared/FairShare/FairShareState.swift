import FairwayRedis

/// The shared fair-share state as the relays keep it in Redis: each tenant's stored decayed usage and the tenants
/// active within the last three half-lives. Relays read it to compute shares; management reads it to report them.
public struct FairShareState: Sendable {
    public var usage: DecayedUsage
    /// Stored values `V` by tenant id; the decayed usage is `usage.usage(stored:at:)`.
    public var stored: [String: Double]
    public var active: Set<String>

    public static let empty = FairShareState(usage: DecayedUsage(halfLife: 1, epoch: 0), stored: [:], active: [])

    public init(usage: DecayedUsage, stored: [String: Double], active: Set<String>) {
        self.usage = usage
        self.stored = stored
        self.active = active
    }

    /// The commands that read it, to pipeline with others; their replies go to ``init(replies:halfLife:)`` in order.
    public static func commands(now: Double, halfLife: Double) -> [RedisCommand] {
        [
            RedisCommand("HGETALL", FairShareKeys.usage),
            RedisCommand("GET", FairShareKeys.epoch),
            RedisCommand("ZRANGEBYSCORE", FairShareKeys.active, String(now - 3 * halfLife), "+inf"),
        ]
    }

    /// Reads the replies of ``commands(now:halfLife:)``.
    public init(replies: ArraySlice<RESPValue>, halfLife: Double) {
        let replies = Array(replies)
        var stored: [String: Double] = [:]
        let pairs = replies.first?.array ?? []
        for index in stride(from: 0, to: pairs.count - 1, by: 2) {
            if let tenant = pairs[index].string, let value = pairs[index + 1].string.flatMap(Double.init) { stored[tenant] = value }
        }
        let epoch = replies.count > 1 ? replies[1].string.flatMap(Double.init) ?? 0 : 0
        let active = replies.count > 2 ? Set((replies[2].array ?? []).compactMap(\.string)) : []
        self.init(usage: DecayedUsage(halfLife: halfLife, epoch: epoch), stored: stored, active: active)
    }

    /// A tenant's decayed usage at `time`; 0 before anything was charged.
    public func usage(of tenant: String, at time: Double) -> Double {
        guard usage.epoch > 0, let value = stored[tenant] else { return 0 }
        return usage.usage(stored: value, at: time)
    }
}
