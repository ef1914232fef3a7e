import Foundation
import HTTPTypes
import Hummingbird

/// The mock's routes. Paths may start with `/k/<knobs>` so one mock process can play several deployments that behave
/// differently (`http://mock/k/status=500/v1` fails, `http://mock/v1` answers).
struct MockServer: Sendable {
    let defaults: MockBehavior
    let requiredKey: String?
    let statistics = MockStatistics()
    let mcp = MockMCP()

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let server = self
        router.get("healthz") { _, _ in Self.json("{\"ok\":true}") }
        router.get("readyz") { _, _ in Self.json("{\"ok\":true}") }
        router.get("mock/stats") { _, _ in
            Self.json(server.statistics.json())
        }
        router.post("mock/reset") { _, _ in
            server.statistics.reset()
            return Response(status: .noContent)
        }
        mcp.register(on: router)
        router.get("mock/traces") { _, _ in
            Self.json("[" + server.statistics.traces().joined(separator: ",") + "]")
        }
        router.on("**", method: .post) { request, context in
            try await server.respond(to: request, context: context)
        }
        router.on("**", method: .get) { request, context in
            try await server.respond(to: request, context: context)
        }
        return router
    }

    private func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        if request.method == .post && request.uri.path == "/v1/traces" {
            // An OTLP/HTTP (JSON) trace receiver, so tests can see the spans a relay exports. Matched here, not as a
            // route: a static `v1/…` route would shadow the catch-all for every other `/v1` path.
            var request = request
            statistics.receiveTraces(String(buffer: try await request.collectBody(upTo: 16 << 20)))
            return Self.json("{}")
        }
        var path = Substring(request.uri.path)
        var behavior = defaults
        if path.hasPrefix("/k/") {
            let rest = path.dropFirst(3)
            let knobs = rest.prefix { $0 != "/" }
            path = rest.dropFirst(knobs.count)
            do { try behavior.apply(MockBehavior.parseKnobList(knobs)) } catch {
                return Self.json("{\"error\":{\"message\":\(MockJSON.quote("\(error)")),\"type\":\"invalid_request_error\"}}", status: .badRequest)
            }
        }
        var headerKnobs: [(String, String)] = []
        for field in request.headers where field.name.canonicalName.hasPrefix("x-mock-") {
            headerKnobs.append((String(field.name.canonicalName.dropFirst(7)).replacingOccurrences(of: "-", with: "_"), field.value))
        }

        var request = request
        let bodyBuffer = try await request.collectBody(upTo: 64 << 20)
        let bodyData = Data(buffer: bodyBuffer)
        let body = MockJSON.object(bodyData) ?? [:]
        if let mock = body["mock"] as? [String: Any] {
            headerKnobs += mock.map { ($0.key, "\($0.value)") }
        }
        do { try behavior.apply(headerKnobs) } catch {
            return Self.json("{\"error\":{\"message\":\(MockJSON.quote("\(error)")),\"type\":\"invalid_request_error\"}}", status: .badRequest)
        }

        let isAnthropic = path.hasSuffix("/messages") || path.hasSuffix("/messages/count_tokens")
        let forwarded = ["anthropic-version", "anthropic-beta", "traceparent"].compactMap { name in
            HTTPField.Name(name).flatMap { request.headers[$0] }.map { (name, $0) }
        }
        statistics.begin(path: request.uri.path, body: bodyData.isEmpty ? "" : String(decoding: bodyData, as: UTF8.self), headers: forwarded)
        var finished = false
        defer { if !finished { statistics.end() } }

        if behavior.latencyMS > 0 { try await Task.sleep(for: .milliseconds(behavior.latencyMS)) }

        if let requiredKey {
            let bearer = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 }
            let apiKey = request.headers[.xAPIKey]
            if bearer != requiredKey && apiKey != requiredKey {
                return isAnthropic
                    ? Self.json(MockAnswers.anthropicError(status: 401, message: "invalid x-api-key"), status: .unauthorized)
                    : Self.json(MockAnswers.openAIError(status: 401), status: .unauthorized)
            }
        }
        if let status = behavior.status {
            var response = Self.json(
                isAnthropic ? MockAnswers.anthropicError(status: status) : MockAnswers.openAIError(status: status),
                status: HTTPResponse.Status(code: status)
            )
            if status == 429 { response.headers[.retryAfter] = "1" }
            return response
        }
        if isAnthropic && request.headers[.anthropicVersion] == nil {
            return Self.json(MockAnswers.anthropicError(status: 400, message: "anthropic-version header is required"), status: .badRequest)
        }

        let answers = MockAnswers(request: MockRequest(body), behavior: behavior)
        let streaming = answers.request.stream
        switch (path.split(separator: "/").last ?? "", streaming) {
        case ("models", _):
            return Self.json(MockAnswers.models())
        case ("embeddings", _):
            return Self.json(answers.embeddings())
        case ("completions", false) where path.hasSuffix("chat/completions"):
            return Self.json(answers.chatCompletion())
        case ("completions", true) where path.hasSuffix("chat/completions"):
            finished = true
            return stream(answers.chatChunks().map { (nil, $0) } + [(nil, "[DONE]")], behavior: behavior)
        case ("completions", false):
            return Self.json(answers.completion())
        case ("completions", true):
            finished = true
            return stream(answers.completionChunks().map { (nil, $0) } + [(nil, "[DONE]")], behavior: behavior)
        case ("messages", false):
            return Self.json(answers.message())
        case ("messages", true):
            finished = true
            return stream(answers.messageEvents().map { ($0.0, $0.1) }, behavior: behavior)
        case ("count_tokens", _):
            return Self.json(answers.tokenCount())
        case ("responses", false):
            return Self.json(answers.response())
        case ("responses", true):
            finished = true
            return stream(answers.responseEvents(), behavior: behavior)
        default:
            return Self.json(MockAnswers.openAIError(status: 404), status: .notFound)
        }
    }

    private struct DroppedConnection: Error {}

    private func stream(_ events: [(String?, String)], behavior: MockBehavior) -> Response {
        let statistics = self.statistics
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                defer { statistics.end() }
                if behavior.ttftMS > 0 { try await Task.sleep(for: .milliseconds(behavior.ttftMS)) }
                for (index, (event, data)) in events.enumerated() {
                    if let drop = behavior.dropAfterChunks, index >= drop {
                        // Let what was written reach the client before the connection is cut.
                        try await Task.sleep(for: .milliseconds(50))
                        throw DroppedConnection()
                    }
                    var text = ""
                    if let event { text += "event: \(event)\n" }
                    text += "data: \(data)\n\n"
                    try await writer.write(ByteBuffer(string: text))
                    if index > 0, let interval = behavior.tokenInterval { try await Task.sleep(for: interval) }
                }
                try await writer.finish(nil)
            }
        )
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension HTTPField.Name {
    // Valid literal field names: the initializer fails only on characters these literals do not contain.
    static let xAPIKey = HTTPField.Name("x-api-key")!
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
}
