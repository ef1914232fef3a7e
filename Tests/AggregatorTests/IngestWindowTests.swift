import Aggregator
import FairwayCore
import Foundation
import Testing

@Suite("Ingest window and saturating rollups")
struct IngestWindowTests {
    static let day: Int64 = 86_400_000_000

    static func event(startedAt: Int64, prompt: Int64 = 1, cost: Int64 = 1) -> RequestLogEvent {
        RequestLogEvent(
            requestID: UUID(), startedAt: startedAt, finishedAt: startedAt, tenantID: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), apiKeyID: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
            modelName: "m", endpoint: "/v1/chat/completions", statusCode: 200, promptTokens: prompt, costPicoUSD: cost, latencyMS: 1, relayID: "r"
        )
    }

    @Test func daysOutsideRetentionOrTooFarAheadAreRefused() {
        let window = IngestWindow(retentionDays: 30)
        let now = 20_000 * Self.day + 5 * 3_600_000_000
        #expect(window.verdict(for: Self.event(startedAt: now), now: now) == .inside)
        #expect(window.verdict(for: Self.event(startedAt: (20_000 - 30) * Self.day), now: now) == .inside, "the oldest kept day")
        #expect(window.verdict(for: Self.event(startedAt: (20_000 - 30) * Self.day - 1), now: now) == .pastRetention)
        #expect(window.verdict(for: Self.event(startedAt: now + Self.day), now: now) == .inside)
        #expect(window.verdict(for: Self.event(startedAt: now + Self.day + 1), now: now) == .future)
    }

    @Test func rollupSumsSaturateInsteadOfTrapping() {
        let rollup = SpendRollup([Self.event(startedAt: 0, prompt: .max, cost: .max), Self.event(startedAt: 1, prompt: .max, cost: .max)])
        let measures = rollup.rows.values.first
        #expect(rollup.rows.count == 1)
        #expect(measures?.promptTokens == .max && measures?.costPicoUSD == .max && measures?.requests == 2)
    }
}
