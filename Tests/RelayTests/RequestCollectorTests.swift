import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import Relay

/// How the request collector paces a connection's reading, on an embedded channel: the read NIO asks for after each
/// read goes through while one request is answered, waits while a second one waits, and quiescing closes the
/// connection when no answer is owed.
@Suite("Request collector")
struct RequestCollectorTests {
    /// Counts the reads that reach the channel.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = HTTPResponsePart
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    static func channel() throws -> (EmbeddedChannel, ReadCounter, RequestInbox) {
        let counter = ReadCounter(), inbox = RequestInbox()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(RequestCollector(inbox: inbox, presence: ClientPresence(), bodyLimit: 1024))
        // Active, as an accepted connection is: the quiescing checks read `isActive`.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(channel.isActive)
        return (channel, counter, inbox)
    }

    static func request(_ channel: EmbeddedChannel) throws {
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "x", path: "/v1/models")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    @Test func readingGoesOnDuringAnAnswerAndWaitsWhileASecondRequestWaits() throws {
        let (channel, counter, _) = try Self.channel()
        try Self.request(channel)
        channel.read()
        #expect(counter.reads == 1, "one request being answered does not stop reading")
        try Self.request(channel)
        channel.read()
        #expect(counter.reads == 1, "a second request waiting holds reading back")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(counter.reads == 2, "the first answer's end lets the held read go")
        channel.read()
        #expect(counter.reads == 3)
        _ = try? channel.finish()
    }

    @Test func quiescingClosesAnIdleConnectionAtOnceAndABusyOneAfterItsAnswer() throws {
        let (idle, _, _) = try Self.channel()
        idle.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!idle.isActive, "no answer owed: closed at once")

        let (busy, counter, _) = try Self.channel()
        try Self.request(busy)
        busy.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.isActive, "an answer is owed")
        busy.read()
        #expect(counter.reads == 0, "nothing more is read once quiescing")
        try busy.writeOutbound(HTTPResponsePart.end(nil))
        busy.embeddedEventLoop.run()
        #expect(!busy.isActive, "closed after its answer")

        // A pipelined request half received when quiescing starts is read to its end and answered before the close.
        let (arriving, reads, _) = try Self.channel()
        try Self.request(arriving)
        try arriving.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "x", path: "/v1/models")))
        arriving.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        try arriving.writeOutbound(HTTPResponsePart.end(nil))
        arriving.embeddedEventLoop.run()
        #expect(arriving.isActive, "the second request has not ended yet")
        arriving.read()
        #expect(reads.reads == 1, "its body may still be read")
        try arriving.writeInbound(HTTPRequestPart.end(nil))
        try arriving.writeOutbound(HTTPResponsePart.end(nil))
        arriving.embeddedEventLoop.run()
        #expect(!arriving.isActive, "closed after answering it")
    }
}
