import FairwayTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The relay's own HTTP/1.1 connection handling (`RelayHTTPChannel`), on raw sockets against the real binary: what a
/// client library would smooth over — pipelining, a body past the limit, `connection: close`, bytes that are not
/// HTTP — must still get the answer a production server gives, in order, and leave nothing behind.
@Suite("Relay connections", .serialized)
struct RelayConnectionTests {
    static let bodyLimit = 2048

    static func chat(_ key: String, extraHeaders: String = "", body: String) -> String {
        "POST /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\n"
            + "\(extraHeaders)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// A relay serving `model` to a key of a new tenant.
    static func relay(
        _ harness: RelayHarness, tenant: String, model: String, environment: [String: String] = [:]
    ) async throws -> (ServiceBinary, key: String) {
        let key = try await harness.createKey(tenant: try await harness.createTenant(tenant)).secret
        _ = try await harness.createModel(model)
        return (try await harness.startRelay(environment), key)
    }

    static func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    @Test func pipelinedAndSequentialRequestsAreAnsweredInOrderOnOneConnection() async throws {
        try await RelayHarness.with { harness in
            let (relay, key) = try await Self.relay(harness, tenant: "pipeliner", model: "pipe")
            let socket = try RawHTTPClient(port: relay.port)
            let body = #"{"model":"pipe","messages":[{"role":"user","content":"hi"}]}"#
            // Three requests in one write: a chat, an unauthenticated one, liveness.
            try socket.send(Self.chat(key, body: body) + "GET /v1/models HTTP/1.1\r\nHost: relay\r\n\r\n" + "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
            let pipelined = await socket.receive(timeout: .seconds(10)) { Self.statuses($0).count == 3 && $0.hasSuffix("ok\n") }
            #expect(Self.statuses(pipelined.text) == [200, 401, 200], "\(pipelined.text)")
            #expect(!pipelined.closed)
            // Then one after another on the same connection.
            for round in 1...3 {
                try socket.send(Self.chat(key, body: body))
                let answer = await socket.receive(timeout: .seconds(10)) { $0.contains("\"usage\"") }
                #expect(Self.statuses(answer.text) == [200], "round \(round): \(answer.text)")
                #expect(answer.text.lowercased().contains("date: "), "every answer is dated")
                #expect(!answer.closed)
            }
            socket.close()
            let events = try await harness.waitForEvents(4)
            #expect(events.map(\.statusCode) == [200, 200, 200, 200])
        }
    }

    @Test func aClientThatExpectsOneHundredContinueGetsItBeforeSendingItsBody() async throws {
        try await RelayHarness.with { harness in
            let (relay, key) = try await Self.relay(harness, tenant: "expecter", model: "expect")
            let socket = try RawHTTPClient(port: relay.port)
            let body = #"{"model":"expect","messages":[{"role":"user","content":"hi"}]}"#
            try socket.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            )
            let started = ContinuousClock.now
            let interim = await socket.receive(timeout: .seconds(2)) { $0.hasSuffix("\r\n\r\n") }
            #expect(interim.text.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(interim.text)")
            #expect(ContinuousClock.now - started < .seconds(1), "the interim answer came at once")
            try socket.send(body)
            let answer = await socket.receive(timeout: .seconds(10)) { $0.contains("\"usage\"") }
            #expect(Self.statuses(answer.text) == [200], "\(answer.text)")
            socket.close()
        }
    }

    @Test func aBodyPastTheLimitIsRefusedBeforeItIsAllSentAndTheConnectionIsClosed() async throws {
        try await RelayHarness.with { harness in
            let (relay, key) = try await Self.relay(harness, tenant: "big-body", model: "big", environment: ["FAIRWAY_MAX_BODY_BYTES": "\(Self.bodyLimit)"])
            let socket = try RawHTTPClient(port: relay.port)
            // Announces a megabyte, sends a little over the limit, and then nothing.
            try socket.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000000\r\n\r\n" + String(repeating: "x", count: Self.bodyLimit + 100)
            )
            let answer = await socket.receive(timeout: .seconds(10)) { _ in false }
            #expect(Self.statuses(answer.text) == [413], "\(answer.text)")
            #expect(answer.text.lowercased().contains("connection: close"))
            #expect(answer.text.contains("\"type\":\"invalid_request_error\"") || answer.text.contains("request_too_large"), "\(answer.text)")
            #expect(answer.closed, "the rest of the body is not read: the connection is closed")
            let events = try await harness.waitForEvents(1)
            #expect(events.map(\.statusCode) == [413])
        }
    }

    @Test func connectionCloseAndBytesThatAreNotHTTPEndTheConnectionAfterTheirAnswer() async throws {
        try await RelayHarness.with { harness in
            let relay = try await harness.startRelay()
            let polite = try RawHTTPClient(port: relay.port)
            try polite.send("GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
            let closing = await polite.receive(timeout: .seconds(10)) { _ in false }
            #expect(Self.statuses(closing.text) == [200], "\(closing.text)")
            #expect(closing.text.lowercased().contains("connection: close"))
            #expect(closing.closed)

            let garbage = try RawHTTPClient(port: relay.port)
            try garbage.send("THIS IS NOT HTTP\r\n\r\n")
            let refused = await garbage.receive(timeout: .seconds(10)) { _ in false }
            #expect(Self.statuses(refused.text) == [400], "\(refused.text)")
            #expect(refused.closed)

            // The relay is still serving.
            let after = try RawHTTPClient(port: relay.port)
            try after.send("GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
            let served = await after.receive(timeout: .seconds(10)) { Self.statuses($0) == [200] }
            #expect(Self.statuses(served.text) == [200])
            after.close()
        }
    }
}

extension RawHTTPClient {
    /// What arrives until `done` says so, the peer closes, or `timeout` passes. It never blocks its thread: the
    /// socket is polled without waiting and the task sleeps between polls, so a slow relay cannot starve the test
    /// process's few concurrency threads (and with them every other test's timing).
    func receive(timeout: Duration, until done: (String) -> Bool) async -> (text: String, closed: Bool) {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 0) > 0 else {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            bytes += buffer[0..<count]
            let text = String(decoding: bytes, as: UTF8.self)
            if done(text) { return (text, false) }
        }
        return (String(decoding: bytes, as: UTF8.self), false)
    }

    func close() { _ = Glibc.close(descriptor) }
}
