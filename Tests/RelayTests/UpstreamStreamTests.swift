import Hummingbird
import HTTPTypes
import NIOCore
import Synchronization
import Testing

@testable import Relay

/// A stream read by the task that writes it: the connection goes back to the pool after a whole stream, and each way
/// a stream can stop (aborted, timed out, broken off) ends it with the right report.
@Suite struct UpstreamStreamTests {
    let client = UpstreamHTTPClient(connectTimeout: .seconds(2))

    /// What a client of the relay would have been sent.
    struct CollectingWriter: ResponseBodyWriter {
        let written: Collected<String>
        mutating func write(_ buffer: ByteBuffer) async throws { written.append(String(buffer: buffer)) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    static func chunk(_ text: String) -> String {
        let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\(text)\"}}]}\n\n"
        return String(event.utf8.count, radix: 16) + "\r\n" + event + "\r\n"
    }

    static let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    static let done = "e\r\ndata: [DONE]\n\n\r\n"

    func open(_ port: Int, total: Duration = .seconds(10)) async throws -> UpstreamStream {
        let request = UpstreamRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions", headers: [], body: Array("{}".utf8))
        let response = try await client.post(request, headDeadline: .now() + .seconds(5))
        let outcome = await UpstreamStream.open(
            body: response.body, translator: OpenAIProvider.Translator(clientWantsUsage: true), format: .openAI, deploymentName: "d",
            firstByteDeadline: .now + .seconds(5), totalDeadline: .now + total
        )
        guard case .streaming(let stream) = outcome else { throw UpstreamHTTPError.protocolViolation("not a stream: \(outcome.label)") }
        return stream
    }

    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func aWholeStreamReachesTheClientAndItsConnectionIsReused() async throws {
        let server = ScriptedHTTPServer { _ in
            ScriptedHTTPServer.Reply(
                bytes: Array((Self.head + Self.chunk("Hel")).utf8),
                later: [(.milliseconds(50), Array((Self.chunk("lo") + Self.done + "0\r\n\r\n").utf8))]
            )
        }
        let port = try await server.start()
        for _ in 0..<2 {
            let stream = try await open(port)
            let written = Collected<String>()
            var writer: any ResponseBodyWriter = CollectingWriter(written: written)
            let end = await stream.relay(to: &writer)
            #expect(end.ending == .completed)
            let text = written.values.joined()
            #expect(text.contains("Hel") && text.contains("lo") && text.hasSuffix("data: [DONE]\n\n"))
            try await eventually { client.pool.idleCount == 1 }
            #expect(client.pool.idleCount == 1)
        }
        #expect(server.accepted == 1)
        await server.stop()
    }

    @Test func anAbortStopsAWaitingStreamAtOnceAndClosesItsConnection() async throws {
        let server = ScriptedHTTPServer { _ in .raw(Self.head + Self.chunk("first")) }
        let port = try await server.start()
        let stream = try await open(port)
        let relayed = Task {
            var writer: any ResponseBodyWriter = CollectingWriter(written: Collected<String>())
            return await stream.relay(to: &writer, interruption: { RelayError(status: .serviceUnavailable, type: "x", message: "stopped") })
        }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        stream.abort()
        let end = await relayed.value
        // Without the abort the stream would end at its 10 s total deadline, as a timeout: the message tells the two
        // apart, and the bound leaves room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(5))
        guard case .failed(let error) = end.ending else { Issue.record("ended \(end.ending)"); return }
        #expect(error.message == "stopped")
        try await eventually { server.closed == 1 }
        #expect(server.closed == 1)
        await server.stop()
    }

    @Test func aStreamPastItsTotalDeadlineEndsWithATimeoutEvent() async throws {
        let server = ScriptedHTTPServer { _ in .raw(Self.head + Self.chunk("slow")) }
        let port = try await server.start()
        let stream = try await open(port, total: .milliseconds(300))
        let written = Collected<String>()
        var writer: any ResponseBodyWriter = CollectingWriter(written: written)
        let end = await stream.relay(to: &writer)
        guard case .failed(let error) = end.ending else { Issue.record("ended \(end.ending)"); return }
        #expect(error.status == .gatewayTimeout)
        #expect(written.values.joined().contains("upstream_timeout"))
        await server.stop()
    }

    @Test func aStreamBrokenOffMidwayEndsWithAnErrorEvent() async throws {
        let server = ScriptedHTTPServer { _ in .raw(Self.head + Self.chunk("half"), close: true) }
        let port = try await server.start()
        let stream = try await open(port)
        let written = Collected<String>()
        var writer: any ResponseBodyWriter = CollectingWriter(written: written)
        let end = await stream.relay(to: &writer)
        guard case .failed(let error) = end.ending else { Issue.record("ended \(end.ending)"); return }
        #expect(error.status == .badGateway)
        #expect(written.values.joined().contains("upstream_stream_error"))
        await server.stop()
    }
}
