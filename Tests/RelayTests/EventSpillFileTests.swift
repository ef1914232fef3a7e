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
        // Ids made in one millisecond differ in their random bits, and read back as their version and variant.
        let ids = (0..<10_000).map { _ in UUID.version7(unixMilliseconds: 0x0123_4567_89AB) }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.uuidString.hasPrefix("01234567-89AB-7") })
        #expect(Set(ids.map { withUnsafeBytes(of: $0.uuid) { $0[6] & 0x0F } }).count > 1, "rand_a varies")
    }
}

@Suite("Event spill file, damaged")
struct EventSpillFileDamageTests {
    @Test func aTornLastLineIsCutOffWhenTheFileIsOpened() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/events"
        var file = EventSpillFile(path: path)
        let events = (0..<3).map(EventSpillFileTests.event)
        try file.append(events)
        // A crash mid-write leaves half a line behind.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"request_id":"0190"#.utf8))
        try handle.close()
        var reopened = EventSpillFile(path: path)
        let next = EventSpillFileTests.event(3)
        try reopened.append([next])
        let read = reopened.read(limit: 10)
        #expect(read.events == events + [next], "the torn line must not merge with the next event")
        #expect(read.undecodable == 0)
    }

    @Test func aFileWithOnlyATornLineIsEmptied() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data(#"{"half":"#.utf8))
        let file = EventSpillFile(path: path)
        #expect(file.pendingBytes == 0)
    }

    @Test func anUnwritableLocationIsReported() {
        #expect(!EventSpillFile(path: "/proc/fairway-no/such/events").isWritable())
        #expect(EventSpillFile(path: FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString)").path).isWritable())
    }

    @Test func twoRelaysOnOneHostClaimDifferentFiles() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claim-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = SpillFileLocation.claim(directory: directory, name: "host")
        #expect(first == directory + "/host.events")
        // flock is per open file description: a second claim in this process sees the first one's lock.
        let second = SpillFileLocation.claim(directory: directory, name: "host")
        #expect(second == directory + "/host-2.events")
    }
}
