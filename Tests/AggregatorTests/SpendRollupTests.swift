import Aggregator
import FairwayCore
import FairwayTestSupport
import Foundation
import Testing

@Suite("Spend rollup and events (pure)")
struct SpendRollupTests {
    @Test func rollupSumsEachGrainOnce() {
        let synthetic = SyntheticEvents(tenants: 2, keysPerTenant: 1, models: 2, days: 2)
        let events = synthetic.make(2_000)
        let rollup = SpendRollup(events)
        let totalRequests = rollup.rows.values.reduce(0) { $0 + $1.requests }
        let totalCost = rollup.rows.values.reduce(Decimal(0)) { $0 + $1.costUSD }
        #expect(totalRequests == 2_000)
        #expect(totalCost == events.reduce(Decimal(0)) { $0 + $1.costUSD })
        #expect(rollup.rows.values.allSatisfy { $0.succeeded + $0.failed == $0.requests })
        #expect(rollup.rows.values.reduce(0) { $0 + $1.promptTokens } == events.reduce(0) { $0 + $1.promptTokens })
        // 2 days × 2 keys × 2 models, and the model without deployment also gets its failures under nil.
        #expect(rollup.rows.count <= 2 * 2 * 2 * 2)
        #expect(Set(rollup.rows.keys.map(\.day)) == ["2026-03-01", "2026-03-02"])
        let sorted = rollup.sortedRows.map(\.grain)
        #expect(sorted == sorted.sorted())
    }

    @Test func streamFieldsRoundTrip() throws {
        for event in SyntheticEvents().make(200, seed: 7) {
            let fields = Dictionary(uniqueKeysWithValues: event.fields)
            #expect(try RequestLogEvent(fields: fields) == event)
        }
    }

    @Test func malformedEntriesNameTheField() {
        var fields = Dictionary(uniqueKeysWithValues: SyntheticEvents().make(1)[0].fields)
        fields["cost_usd"] = "-1"
        #expect(throws: RequestLogEvent.DecodingError.self) { try RequestLogEvent(fields: fields) }
        fields["cost_usd"] = "0.5"
        fields["tenant_id"] = "nope"
        let error = #expect(throws: RequestLogEvent.DecodingError.self) { try RequestLogEvent(fields: fields) }
        #expect(error?.field == "tenant_id")
        fields.removeValue(forKey: "tenant_id")
        #expect((#expect(throws: RequestLogEvent.DecodingError.self) { try RequestLogEvent(fields: fields) })?.field == "tenant_id")
    }

    @Test func utcDaysMatchTheCalendar() {
        let formatter = Date.ISO8601FormatStyle().year().month().day()
        var random = SeededGenerator(seed: 3)
        for _ in 0..<2_000 {
            let micros = Int64(random.next() % 4_000_000_000_000_000)
            let date = Date(timeIntervalSince1970: Double(micros / 1_000_000))
            #expect(RequestLogEvent.utcDay(microseconds: micros) == date.formatted(formatter))
        }
        #expect(RequestLogEvent.utcDay(microseconds: 86_400_000_000 - 1) == "1970-01-01")
        #expect(RequestLogEvent.utcDay(microseconds: 86_400_000_000) == "1970-01-02")
    }

    @Test func rebuildRanges() {
        #expect(SpendRebuild.days(from: "2026-02-27", to: "2026-03-02") == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"])
        #expect(SpendRebuild.days(from: "2026-03-02", to: "2026-03-01") == nil)
        #expect(SpendRebuild.days(from: "2026-3-1", to: "2026-03-01") == nil)
        #expect(SpendRebuild.days(from: "2025-01-01", to: "2026-03-01") == nil)
    }
}
