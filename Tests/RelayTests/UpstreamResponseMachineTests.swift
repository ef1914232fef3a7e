import NIOCore
import NIOHTTP1
import Testing

@testable import Relay

@Suite struct UpstreamResponseMachineTests {
    let ok = HTTPResponseHead(version: .http1_1, status: .ok)

    func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func aWholeBodyIsHandedOverAtItsEndAndTheConnectionGoesBack() {
        var machine = UpstreamResponseMachine()
        #expect(machine.awaitHead().reader.isNone)
        guard case .head(let head) = machine.receivedHead(ok).reader else { Issue.record("no head"); return }
        #expect(head.status == .ok)
        #expect(machine.collect(upTo: 100).reader.isNone)
        #expect(machine.receivedBody(bytes("hel")).reader.isNone)
        #expect(machine.receivedBody(bytes("lo")).reader.isNone)
        let end = machine.receivedEnd(keepAlive: true)
        #expect(end.reader.text == "hello")
        #expect(end.connection == .release)
    }

    @Test func aResponseThatEndedBeforeTheReaderAskedIsAnsweredAtOnce() {
        var machine = UpstreamResponseMachine()
        _ = machine.receivedHead(ok)
        _ = machine.receivedBody(bytes("{}"))
        #expect(machine.receivedEnd(keepAlive: true).connection == .release)
        #expect(machine.awaitHead().reader.isHead)
        #expect(machine.collect(upTo: 10).reader.text == "{}")
    }

    @Test func aConnectionTheServerWillCloseIsClosedNotPooled() {
        var machine = UpstreamResponseMachine()
        _ = machine.receivedHead(ok)
        #expect(machine.receivedEnd(keepAlive: false).connection == .close)
    }

    @Test func aBodyPastTheLimitFailsAndClosesWhetherItArrivesBeforeOrAfterTheAsk() {
        var waiting = UpstreamResponseMachine()
        _ = waiting.receivedHead(ok)
        _ = waiting.collect(upTo: 4)
        let over = waiting.receivedBody(bytes("12345"))
        #expect(over.reader.failure == .responseTooLarge(limit: 4))
        #expect(over.connection == .close)
        #expect(waiting.receivedEnd(keepAlive: true).connection == .none)

        var late = UpstreamResponseMachine()
        _ = late.receivedHead(ok)
        _ = late.receivedBody(bytes("12345"))
        let asked = late.collect(upTo: 4)
        #expect(asked.reader.failure == .responseTooLarge(limit: 4))
        #expect(asked.connection == .close)
    }

    @Test func aStreamHandsOverEverythingBufferedInOneRead() {
        var machine = UpstreamResponseMachine()
        _ = machine.receivedHead(ok)
        _ = machine.receivedBody(bytes("data: 1\n\n"))
        _ = machine.receivedBody(bytes("data: 2\n\n"))
        #expect(machine.next().reader.text == "data: 1\n\ndata: 2\n\n")
        #expect(machine.next().reader.isNone)
        #expect(machine.receivedBody(bytes("data: 3\n\n")).reader.text == "data: 3\n\n")
        #expect(machine.next().reader.isNone)
        let end = machine.receivedEnd(keepAlive: true)
        #expect(end.reader.isEnd)
        #expect(machine.next().reader.isEnd)
    }

    @Test func readingPausesPastTheHighWaterMarkUntilTheReaderCatchesUp() {
        var machine = UpstreamResponseMachine(highWater: 8)
        _ = machine.receivedHead(ok)
        var mayRead = machine.mayRead()
        #expect(mayRead)
        _ = machine.receivedBody(bytes("0123456789"))
        mayRead = machine.mayRead()
        #expect(!mayRead)
        let read = machine.next()
        #expect(read.reader.text == "0123456789")
        #expect(read.connection == .resumeReading)
        mayRead = machine.mayRead()
        #expect(mayRead)
    }

    @Test func aCollectNeverPausesReading() {
        var machine = UpstreamResponseMachine(highWater: 8)
        _ = machine.receivedHead(ok)
        _ = machine.collect(upTo: 1000)
        _ = machine.receivedBody(bytes("0123456789"))
        let mayRead = machine.mayRead()
        #expect(mayRead)
    }

    @Test func aReaderThatLeavesMidBodyClosesTheConnectionAndOneThatLeavesAfterTheEndDoesNothing() {
        var midway = UpstreamResponseMachine()
        _ = midway.receivedHead(ok)
        _ = midway.next()
        let left = midway.readerLeft(cancelled: true)
        #expect(left.reader.failure == .cancelled)
        #expect(left.connection == .close)
        #expect(midway.receivedBody(bytes("late")).reader.isNone)
        #expect(midway.receivedEnd(keepAlive: true).connection == .none)
        #expect(midway.next().reader.failure == .cancelled)

        var done = UpstreamResponseMachine()
        _ = done.receivedHead(ok)
        _ = done.receivedEnd(keepAlive: true)
        let after = done.readerLeft(cancelled: false)
        #expect(after.reader.isNone)
        #expect(after.connection == .none)
    }

    @Test func aFailureReachesTheWaitingReaderOnceAndIsRememberedForTheNextAsk() {
        var machine = UpstreamResponseMachine()
        _ = machine.awaitHead()
        let failed = machine.failed(.headTimeout)
        #expect(failed.reader.failure == .headTimeout)
        #expect(failed.connection == .close)
        #expect(machine.failed(.connectionClosed("again")).connection == .none)
        #expect(machine.awaitHead().reader.failure == .headTimeout)
        #expect(machine.receivedHead(ok).reader.isNone)
    }

    @Test func bytesThatArrivedBeforeTheConnectionFailedStillReachAStream() {
        var machine = UpstreamResponseMachine()
        _ = machine.receivedHead(ok)
        _ = machine.receivedBody(bytes("data: 1\n\n"))
        #expect(machine.failed(.connectionClosed("reset")).connection == .close)
        #expect(machine.next().reader.text == "data: 1\n\n")
        #expect(machine.next().reader.failure == .connectionClosed("reset"))
        var collecting = UpstreamResponseMachine()
        _ = collecting.receivedHead(ok)
        _ = collecting.receivedBody(bytes("{\"partial\""))
        _ = collecting.failed(.connectionClosed("reset"))
        #expect(collecting.collect(upTo: 100).reader.failure == .connectionClosed("reset"))
    }

    @Test func aFailureAfterTheEndChangesNothing() {
        var machine = UpstreamResponseMachine()
        _ = machine.receivedHead(ok)
        _ = machine.receivedEnd(keepAlive: true)
        let late = machine.failed(.connectionClosed("closed later"))
        #expect(late.reader.isNone)
        #expect(late.connection == .none)
        #expect(machine.collect(upTo: 10).reader.text == "")
    }
}

extension UpstreamResponseMachine.ReaderAction {
    var isNone: Bool { if case .none = self { true } else { false } }
    var isHead: Bool { if case .head = self { true } else { false } }
    var isEnd: Bool { if case .bytes(nil) = self { true } else { false } }
    var failure: UpstreamHTTPError? { if case .fail(let error) = self { error } else { nil } }
    /// The bytes handed over as text ("" for the end of an empty body); nil when this hands over no bytes.
    var text: String? {
        guard case .bytes(let buffer) = self else { return nil }
        return buffer.map { String(buffer: $0) } ?? ""
    }
}
