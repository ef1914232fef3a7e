import FairwayCore
import Foundation
import Relay
import Testing

@Suite("Event spill file")
struct EventSpillFileTests {
    static func event(_ index: Int) -> RequestLogEvent {
        RequestLogEvent(
            requestID: UUID.version7(), startedAt: 1_700_000_000_000_000 + Int64(index), finishedAt: 1_700_000_000_000_100 + Int64(index),
            tenantID: UUID(), apiKeyID: UUID(), modelName: "m\(index)", endpoint: "/v1/chat/completions", statusCode: 200,
            promptTokens: Int64(index), costPicoUSD: 1_234_567, latencyMS: 5, relayID: "r"
        )
    }

    @Test func appendReadCommitAndPrependKeepOrder() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString)/events").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        var file = EventSpillFile(path: path)
        let events = (0..<5).map(Self.event)
        try file.append(Array(events[2...]))
        let firstRead = file.read(limit: 2)
        #expect(firstRead.events == Array(events[2...3]))
        // Not committed: the same events come again.
        #expect(file.read(limit: 2).events == Array(events[2...3]))
        file.commit(firstRead.endOffset)
        try file.prepend(Array(events[0...1]))
        #expect(file.read(limit: 10).events == [events[0], events[1], events[4]])
        file.reset()
        #expect(file.pendingBytes == 0)
        #expect(file.read(limit: 10).events.isEmpty)
    }

    @Test func uuidV7CarriesTheTimeAndVersion() {
        let id = UUID.version7(unixMilliseconds: 0x0123_4567_89AB)
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        #expect(Array(bytes[0..<6]) == [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB])
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 2)
    }
}
