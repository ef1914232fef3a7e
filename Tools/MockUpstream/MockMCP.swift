import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A small MCP server (Streamable HTTP) for the relay's proxy tests, under `/mcp-server/<name>`. It records what it
/// received (`GET /mock/mcp/<name>`: calls, the last request's headers, the JSON-RPC methods), answers `initialize`,
/// `tools/list` (tools `search`, `read`, `delete_all`) and `tools/call`; a name ending in `-sse` answers POSTs as event
/// streams. GET is a server event stream with ids 1, 2, 3, 0.6 s apart (1…40 a quarter second apart for a name ending
/// `-long`), after `Last-Event-ID` if sent;
/// DELETE ends the session. A session id `expired` gets the server's own 404 JSON-RPC error.
final class MockMCP: Sendable {
    struct Record: Sendable {
        var calls = 0
        var headers: [String: String] = [:]
        var methods: [String] = []
    }

    let records = Mutex<[String: Record]>([:])

    func register(on router: Router<BasicRequestContext>) {
        let mcp = self
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("mcp-server/:name", method: method) { request, context in
                try await mcp.respond(request, name: try context.parameters.require("name"))
            }
        }
        router.get("mock/mcp/:name") { _, context in
            let name = try context.parameters.require("name")
            let record = mcp.records.withLock { $0[name] } ?? Record()
            let body: [String: Any] = ["calls": record.calls, "headers": record.headers, "methods": record.methods]
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    private func respond(_ request: Request, name: String) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let message = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        records.withLock { records in
            var record = records[name] ?? Record()
            record.calls += 1
            record.headers = Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { $1 })
            if let method = message["method"] as? String { record.methods.append(method) }
            records[name] = record
        }
        let session = HTTPField.Name("mcp-session-id")!
        if request.headers[session] == "expired" {
            return Self.json(["jsonrpc": "2.0", "id": message["id"] ?? NSNull(), "error": ["code": -32001, "message": "Session not found"]], status: .notFound)
        }
        switch request.method {
        case .delete: return Response(status: .noContent)
        case .get:
            let after = Int(request.headers[HTTPField.Name("last-event-id")!] ?? "") ?? 0
            let long = name.hasSuffix("-long")
            return Self.events(after: after, through: long ? 40 : 3, every: .milliseconds(long ? 250 : 600))
        default: break
        }
        guard let id = message["id"] else { return Response(status: .accepted) }
        let result: [String: Any]
        switch message["method"] as? String {
        case "initialize":
            result = ["protocolVersion": "2025-06-18", "capabilities": ["tools": [:]], "serverInfo": ["name": name, "version": "1"]]
        case "tools/list":
            result = ["tools": ["search", "read", "delete_all"].map { ["name": $0, "inputSchema": ["type": "object"]] }]
        case "tools/call":
            let tool = (message["params"] as? [String: Any])?["name"] as? String ?? ""
            result = ["content": [["type": "text", "text": "called \(tool)"]]]
        default:
            return Self.json(["jsonrpc": "2.0", "id": id, "error": ["code": -32601, "message": "Method not found"]])
        }
        let answer: [String: Any] = ["jsonrpc": "2.0", "id": id, "result": result]
        var response = name.hasSuffix("-sse") ? Self.stream([answer]) : Self.json(answer)
        if message["method"] as? String == "initialize" { response.headers[session] = "session-\(name)" }
        return response
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func stream(_ messages: [[String: Any]]) -> Response {
        var text = ""
        for (index, message) in messages.enumerated() {
            let data = (try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])) ?? Data()
            text += "event: message\nid: \(index + 1)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Server notifications up to `last`, one per `gap`, resumed after `after`. The short stream's gap is wide so a
    /// test can tell an event passed on at once from one held to the end even on a loaded machine.
    static func events(after: Int, through last: Int, every gap: Duration) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
            for number in (after + 1)...max(after + 1, last) where number <= last {
                let data = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"n\":\(number)}}"
                try await writer.write(ByteBuffer(string: "id: \(number)\ndata: \(data)\n\n"))
                try await Task.sleep(for: gap)
            }
            try await writer.finish(nil)
        })
    }
}
