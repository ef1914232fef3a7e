import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Relay

/// The model upstreams' client against a scripted server: what it sends, when it reuses a connection and when it
/// must not, and how each way an exchange can go wrong reaches the caller.
@Suite struct UpstreamHTTPClientTests {
    let client = UpstreamHTTPClient(connectTimeout: .seconds(2))

    func request(_ port: Int, path: String = "/v1/chat/completions", body: String = #"{"model":"m"}"#) -> UpstreamRequest {
        UpstreamRequest(url: "http://127.0.0.1:\(port)\(path)", headers: [("authorization", "Bearer up"), ("content-type", "application/json")], body: Array(body.utf8))
    }

    /// A head deadline no test means to reach. It is absolute and taken before the connect, so it must also outlast a
    /// test task kept waiting for a thread while other suites run (full runs saw 5 s pass that way).
    func soon(_ seconds: Int64 = 30) -> NIODeadline { .now() + .seconds(seconds) }

    func text(_ response: UpstreamHTTPResponse) async throws -> String {
        String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    /// Waits (bounded) for `condition`, for what the server sees after the client moved on.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func requestsGoOutWhole_andSequentialOnesShareOneConnection() async throws {
        let server = ScriptedHTTPServer { _ in .ok(#"{"id":"x"}"#) }
        let port = try await server.start()
        for _ in 0..<3 {
            let response = try await client.post(request(port), extraHeaders: [("traceparent", "00-abc-def-01")], headDeadline: soon())
            #expect(response.status == 200)
            #expect(try await text(response) == #"{"id":"x"}"#)
        }
        #expect(server.accepted == 1)
        let first = try #require(server.requests.first)
        #expect(first.head.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        let lines = Set(first.head.lowercased().split(separator: "\r\n").dropFirst().map(String.init))
        #expect(lines.isSuperset(of: ["host: 127.0.0.1:\(port)", "authorization: bearer up", "content-type: application/json", "content-length: 13", "traceparent: 00-abc-def-01"]))
        #expect(first.body == #"{"model":"m"}"#)
        try await eventually { client.pool.idleCount == 1 }
        #expect(client.pool.idleCount == 1)
        await server.stop()
    }

    @Test func aConnectionTheServerAnnouncesItWillCloseIsNotReused() async throws {
        let server = ScriptedHTTPServer { _ in .raw("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}", close: true) }
        let port = try await server.start()
        for _ in 0..<2 {
            #expect(try await text(try await client.post(request(port), headDeadline: soon())) == "{}")
        }
        #expect(server.accepted == 2)
        #expect(client.pool.idleCount == 0)
        await server.stop()
    }

    @Test func aPooledConnectionTheServerDroppedIsReplacedWithoutAnError() async throws {
        // The server closes every connection right after its answer without saying so: the client finds the pooled
        // connection dead (or it dies under the next request before any byte) and sends on a new one.
        let server = ScriptedHTTPServer { _ in .raw("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", close: true) }
        let port = try await server.start()
        for _ in 0..<3 {
            #expect(try await text(try await client.post(request(port), headDeadline: soon())) == "{}")
        }
        #expect(server.accepted == 3)
        #expect(server.requests.count == 3)
        await server.stop()
    }

    @Test func aChunkedStreamArrivesAsItIsWrittenAndEndsWithNil() async throws {
        let server = ScriptedHTTPServer { _ in
            ScriptedHTTPServer.Reply(
                bytes: Array("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n".utf8),
                later: [(.milliseconds(300), Array("9\r\ndata: 2\n\n\r\n0\r\n\r\n".utf8))]
            )
        }
        let port = try await server.start()
        let started = ContinuousClock.now
        let response = try await client.post(request(port), headDeadline: soon())
        let first = try await response.body.next().map { String(buffer: $0) }
        // The server sends the second event 300 ms after the request reached it: a first read back before that can
        // only hold the first (a loaded machine may give a late reader both at once, which is right too).
        if ContinuousClock.now - started < .milliseconds(290) {
            #expect(first == "data: 1\n\n", "the first event did not wait for the second")
        }
        var rest = ""
        while let more = try await response.body.next() { rest += String(buffer: more) }
        #expect((first ?? "") + rest == "data: 1\n\ndata: 2\n\n")
        try await eventually { client.pool.idleCount == 1 }
        #expect(client.pool.idleCount == 1)
        await server.stop()
    }

    @Test func noHeadByTheDeadlineIsAHeadTimeoutAndThatConnectionIsClosed() async throws {
        // Silent on the first connection, not the first request: on a loaded machine the 200 ms deadline (taken before
        // the connect) can pass before the first request is written, and that request then never reaches the server.
        let server = ScriptedHTTPServer { request in request.connection == 1 ? ScriptedHTTPServer.Reply(silent: true) : .ok("{}") }
        let port = try await server.start()
        let started = ContinuousClock.now
        await #expect(throws: UpstreamHTTPError.headTimeout) {
            _ = try await client.post(request(port), headDeadline: .now() + .milliseconds(200))
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(190) && waited < .seconds(2))
        try await eventually { server.closed == 1 }
        #expect(server.closed == 1)
        #expect(try await text(try await client.post(request(port), headDeadline: soon())) == "{}")
        #expect(server.accepted == 2)
        await server.stop()
    }

    @Test func aBodyPastTheLimitIsRefused_andClosesItsConnectionWhenMoreWasComing() async throws {
        let calls = Atomic<Int>(0)
        let server = ScriptedHTTPServer { _ in
            let whole = calls.add(1, ordering: .relaxed).newValue == 1
            return .raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + String(repeating: "x", count: whole ? 100 : 60))
        }
        let port = try await server.start()
        // Read whole before the limit was applied: the connection is clean and stays pooled.
        let whole = try await client.post(request(port), headDeadline: soon())
        try await eventually { client.pool.idleCount == 1 }
        await #expect(throws: UpstreamHTTPError.responseTooLarge(limit: 10)) { _ = try await whole.body.collect(upTo: 10) }
        #expect(client.pool.idleCount == 1)
        // Still arriving: the rest is not read, the connection goes.
        let partial = try await client.post(request(port), headDeadline: soon())
        await #expect(throws: UpstreamHTTPError.responseTooLarge(limit: 10)) { _ = try await partial.body.collect(upTo: 10) }
        try await eventually { server.closed == 1 }
        #expect(server.closed == 1)
        #expect(server.accepted == 1)
        #expect(client.pool.idleCount == 0)
        await server.stop()
    }

    @Test func aReaderCancelledMidStreamClosesTheConnection() async throws {
        let server = ScriptedHTTPServer { _ in
            .raw("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n")
        }
        let port = try await server.start()
        let response = try await client.post(request(port), headDeadline: soon())
        #expect(try await response.body.next() != nil)
        let reader = Task { try await response.body.next() }
        try await Task.sleep(for: .milliseconds(100))
        reader.cancel()
        await #expect(throws: UpstreamHTTPError.cancelled) { _ = try await reader.value }
        try await eventually { server.closed == 1 }
        #expect(server.closed == 1)
        #expect(client.pool.idleCount == 0)
        await server.stop()
    }

    @Test func aBodyDroppedUnreadClosesAConnectionWhoseAnswerIsStillArriving() async throws {
        let server = ScriptedHTTPServer { _ in .raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial") }
        let port = try await server.start()
        var response: UpstreamHTTPResponse? = try await client.post(request(port), headDeadline: soon())
        #expect(response?.status == 200)
        response = nil
        try await eventually { server.closed == 1 }
        #expect(server.closed == 1)
        await server.stop()
    }

    @Test func theServerClosingMidBodyIsAClosedConnectionNotAShortAnswer() async throws {
        let server = ScriptedHTTPServer { _ in .raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial", close: true) }
        let port = try await server.start()
        let response = try await client.post(request(port), headDeadline: soon())
        await #expect {
            _ = try await response.body.collect(upTo: 1000)
        } throws: { error in
            if case UpstreamHTTPError.connectionClosed = error { true } else { false }
        }
        await server.stop()
    }

    @Test func garbageInsteadOfAResponseIsAnError() async throws {
        let server = ScriptedHTTPServer { _ in .raw("SSH-2.0-OpenSSH_9.6\r\n\r\n", close: true) }
        let port = try await server.start()
        await #expect(throws: (any Error).self) { _ = try await client.post(request(port), headDeadline: soon()) }
        await server.stop()
    }

    @Test func aPortNobodyListensOnIsAConnectFailure() async throws {
        let server = ScriptedHTTPServer { _ in .ok("{}") }
        let port = try await server.start()
        await server.stop()
        await #expect {
            _ = try await client.post(request(port), headDeadline: soon())
        } throws: { error in
            if case UpstreamHTTPError.connectFailed = error { true } else { false }
        }
        await #expect(throws: UpstreamHTTPError.unsupportedURL) {
            _ = try await client.post(UpstreamRequest(url: "http://user:pw@127.0.0.1:\(port)/", headers: [], body: []), headDeadline: soon())
        }
    }

    @Test func shutdownClosesIdleConnectionsAndPoolsNoMore() async throws {
        let server = ScriptedHTTPServer { _ in .ok("{}") }
        let port = try await server.start()
        _ = try await text(try await client.post(request(port), headDeadline: soon()))
        try await eventually { client.pool.idleCount == 1 }
        #expect(client.pool.idleCount == 1)
        client.pool.shutdown()
        try await eventually { server.closed == 1 }
        #expect(server.closed == 1)
        _ = try await text(try await client.post(request(port), headDeadline: soon()))
        #expect(client.pool.idleCount == 0)
        await server.stop()
    }
}
