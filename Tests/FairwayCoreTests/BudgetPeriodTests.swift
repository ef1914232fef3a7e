import FairwayCore
import Foundation
import Testing

@Suite("Budget periods")
struct BudgetPeriodTests {
    static func micros(_ text: String) -> Int64 {
        let date = (try? Date.ISO8601FormatStyle().parse(text)) ?? Date(timeIntervalSince1970: 0)
        return Int64(date.timeIntervalSince1970 * 1_000_000)
    }

    /// From 1600 to 2400 (Foundation's Gregorian calendar turns Julian before 1582; ours stays proleptic).
    @Test func civilDaysMatchFoundationsCalendarAcrossCenturiesAndLeapYears() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        for days in stride(from: Int64(-135_000), through: 157_000, by: 97) {
            let day = CivilDay(daysSinceEpoch: days)
            let date = Date(timeIntervalSince1970: Double(days) * 86_400)
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: date)
            let (year, month, dayOfMonth) = day.components
            #expect(year == Int64(parts.year ?? 0) && month == Int64(parts.month ?? 0) && dayOfMonth == Int64(parts.day ?? 0))
            #expect(CivilDay(year: year, month: month, day: dayOfMonth) == day)
            // Foundation: 1 = Sunday; ISO: 7 = Sunday.
            #expect(day.isoWeekday == Int64(((parts.weekday ?? 1) + 5) % 7 + 1))
        }
    }

    @Test func periodsAreUTCCalendarPeriodsWithWeeksFromMonday() {
        // Tuesday 2026-12-01, a second before midnight.
        let now = Self.micros("2026-12-01T23:59:59Z")
        let daily = BudgetPeriod.daily.window(atMicroseconds: now)
        #expect(daily.id == "d2026-12-01" && daily.firstDay?.text == "2026-12-01" && daily.resetsAt?.text == "2026-12-02")
        let weekly = BudgetPeriod.weekly.window(atMicroseconds: now)
        #expect(weekly.id == "w2026-11-30" && weekly.firstDay?.text == "2026-11-30" && weekly.resetsAt?.text == "2026-12-07")
        let monthly = BudgetPeriod.monthly.window(atMicroseconds: now)
        #expect(monthly.id == "m2026-12" && monthly.firstDay?.text == "2026-12-01" && monthly.resetsAt?.text == "2027-01-01")
        let total = BudgetPeriod.total.window(atMicroseconds: now)
        #expect(total.id == "total" && total.firstDay == nil && total.resetsAt == nil)

        // One second later every period but the week and the total has moved on.
        let next = now + 1_000_000
        #expect(BudgetPeriod.daily.window(atMicroseconds: next).id == "d2026-12-02")
        #expect(BudgetPeriod.weekly.window(atMicroseconds: next).id == "w2026-11-30")
        #expect(BudgetPeriod.monthly.window(atMicroseconds: next).id == "m2026-12")
        // A Sunday belongs to the week that began the Monday before; Monday starts a new one.
        #expect(BudgetPeriod.weekly.window(atMicroseconds: Self.micros("2026-12-06T12:00:00Z")).id == "w2026-11-30")
        #expect(BudgetPeriod.weekly.window(atMicroseconds: Self.micros("2026-12-07T00:00:00Z")).id == "w2026-12-07")
        // February of a leap year resets on 1 March.
        #expect(BudgetPeriod.monthly.window(atMicroseconds: Self.micros("2028-02-29T08:00:00Z")).resetsAt?.text == "2028-03-01")
    }
}
