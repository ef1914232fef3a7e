import FairwayCore

/// Which days the aggregator still stores (DESIGN §6, retention): from `today − retention` (the oldest partition the
/// maintainer keeps) to one day ahead of now. An event outside — a late redelivery after its day was dropped, or a
/// clock far in the future — goes to the dead-letter stream instead of re-creating a dropped partition (which would
/// count it a second time into a rollup that already has it) or one that nobody would ever drop.
public struct IngestWindow: Sendable, Equatable {
    public var retentionDays: Int

    public init(retentionDays: Int) {
        self.retentionDays = retentionDays
    }

    public enum Verdict: Sendable, Equatable {
        case inside
        case pastRetention
        case future
    }

    /// - Parameter now: microseconds since the Unix epoch.
    public func verdict(for event: RequestLogEvent, now: Int64) -> Verdict {
        let day: Int64 = 86_400_000_000
        let today = now.floorDivided(by: day)
        if event.startedAt.floorDivided(by: day) < today - Int64(retentionDays) { return .pastRetention }
        if event.startedAt > now.saturatingAdding(day) { return .future }
        return .inside
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (days before 1970 stay whole days).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
