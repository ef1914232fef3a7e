/// A UTC calendar day as days since 1970-01-01 (proleptic Gregorian), converted without Foundation's calendars so
/// request-path code (rollup days, budget periods) stays allocation-free.
public struct CivilDay: Sendable, Hashable, Comparable {
    public let daysSinceEpoch: Int64

    public init(daysSinceEpoch: Int64) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// The UTC day containing this instant.
    public init(microseconds: Int64) {
        var seconds = microseconds / 1_000_000
        if microseconds < 0 && microseconds % 1_000_000 != 0 { seconds -= 1 }
        var days = seconds / 86_400
        if seconds < 0 && seconds % 86_400 != 0 { days -= 1 }
        self.daysSinceEpoch = days
    }

    /// Days-from-civil (Howard Hinnant); `month` 1…12, `day` 1…31.
    public init(year: Int64, month: Int64, day: Int64) {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.daysSinceEpoch = era * 146_097 + doe - 719_468
    }

    /// Civil-from-days (Howard Hinnant).
    public var components: (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    public var isoWeekday: Int64 {
        let weekday = (daysSinceEpoch + 3) % 7
        return (weekday < 0 ? weekday + 7 : weekday) + 1
    }

    public func adding(days: Int64) -> CivilDay { CivilDay(daysSinceEpoch: daysSinceEpoch + days) }

    /// Microseconds since the epoch at this day's midnight UTC.
    public var startMicroseconds: Int64 { daysSinceEpoch * 86_400_000_000 }

    /// `yyyy-MM-dd`.
    public var text: String {
        let (year, month, day) = components
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    public static func < (lhs: CivilDay, rhs: CivilDay) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }
}
