import FairwayCore
import FairwayTestSupport
import Foundation
import AsyncHTTPClient
import NIOHTTP1
import Testing

/// The MCP gateway as MCP clients use it: one relay, management, and the mock's MCP servers.
@Suite("MCP gateway end to end", .serialized, .enabled(if: TestServers.enabled))
struct MCPEndToEndTests {
    static func server(_ harness: RelayHarness, _ name: String, target: String? = nil, _ fields: [String: Any] = [:]) async throws -> String {
        var body: [String: Any] = ["name": name, "base_url": harness.mock.baseURL + "/mcp-server/" + (target ?? name)]
        body.merge(fields) { $1 }
        let reply = try await harness.admin(.POST, "/v1/mcp-servers", body)
        try #require(reply.status == 201, "\(reply.body)")
        return try #require(reply.json["id"] as? String)
    }

    static func rpc(_ relay: ServiceBinary, _ server: String, key: String, _ message: [String: Any], headers: [(String, String)] = []) async throws -> RelayHarness.Reply {
        try await RelayHarness.send(.POST, relay.baseURL + "/mcp/" + server, body: try JSONSerialization.data(withJSONObject: message), headers: [
            ("authorization", "Bearer \(key)"), ("content-type", "application/json"), ("accept", "application/json, text/event-stream"),
        ] + headers)
    }

    static func seen(_ harness: RelayHarness, _ name: String) async throws -> (calls: Int, headers: [String: String], methods: [String]) {
        let json = try await RelayHarness.send(.GET, harness.mock.baseURL + "/mock/mcp/" + name, body: nil, headers: []).json
        return (json["calls"] as? Int ?? 0, json["headers"] as? [String: String] ?? [:], json["methods"] as? [String] ?? [])
    }

    static func header(_ reply: RelayHarness.Reply, _ name: String) -> String? {
        reply.headers.first { $0.0.lowercased() == name }?.1
    }

    /// A request exactly as written (curl `--path-as-is`): no client library gets to normalise the path first.
    static func raw(_ url: String, key: String) async throws -> Int {
        let curl = try ChildProcess(executable: "/usr/bin/curl", arguments: [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", "-X", "POST", "-H", "authorization: Bearer \(key)",
            "-H", "content-type: application/json", "-d", #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, url,
        ], environment: [:])
        _ = await curl.waitForExit(timeout: .seconds(10))
        return Int(curl.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func callsReachTheirServerWithItsCredentialAndNeverTheClientsKey() async throws {
        try await RelayHarness.with { harness in
            try await Self.server(harness, "docs", ["auth_header": "Bearer server-secret"])
            try await Self.server(harness, "other")
            try await Self.server(harness, "off", ["enabled": false])
            let key = try await harness.createKey(tenant: try await harness.createTenant("mcp"))
            let relay = try await harness.startRelay()

            let initialized = try await Self.rpc(relay, "docs", key: key.secret, ["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": [:]])
            #expect(initialized.status == 200, "\(initialized.body)")
            #expect(Self.header(initialized, "mcp-session-id") == "session-docs")
            var docs = try await Self.seen(harness, "docs")
            #expect(docs.headers["authorization"] == "Bearer server-secret")
            #expect(docs.headers["x-api-key"] == nil && !docs.headers.values.contains { $0.contains(key.secret) })

            // Session ids go up; a server's own error comes back unchanged.
            _ = try await Self.rpc(relay, "docs", key: key.secret, ["jsonrpc": "2.0", "id": 2, "method": "tools/list"], headers: [
                ("mcp-session-id", "session-docs"), ("x-mcp-server", "other"), ("x-forwarded-host", "other"),
            ])
            docs = try await Self.seen(harness, "docs")
            #expect(docs.headers["mcp-session-id"] == "session-docs" && docs.calls == 2)
            #expect(docs.headers["x-mcp-server"] == nil, "only MCP's own headers cross")
            let expired = try await Self.rpc(relay, "docs", key: key.secret, ["jsonrpc": "2.0", "id": 3, "method": "tools/list"], headers: [("mcp-session-id", "expired")])
            #expect(expired.status == 404 && expired.body == #"{"error":{"code":-32001,"message":"Session not found"},"id":3,"jsonrpc":"2.0"}"#)

            // Paths name exactly one server; tricks name none, and nothing reaches any server.
            let before = (try await Self.seen(harness, "docs").calls, try await Self.seen(harness, "other").calls)
            for path in ["/mcp/docs%2Fother", "/mcp/../other", "/mcp/docs/../other", "/mcp/docs/x", "/mcp/", "/mcp/off", "/mcp/nope", "/mcp/docs?x=1"] {
                let status = try await Self.raw(relay.baseURL + path, key: key.secret)
                #expect([400, 404].contains(status), "\(path) → \(status)")
            }
            let afterTricks = (try await Self.seen(harness, "docs").calls, try await Self.seen(harness, "other").calls)
            #expect(afterTricks == before)
            #expect(try await Self.seen(harness, "off").calls == 0)
            #expect(try await Self.raw(relay.baseURL + "/mcp/docs", key: "fw-wrong") == 401)

            // An event stream passes through as it comes, ids and Last-Event-ID included.
            var request = HTTPClientRequest(url: relay.baseURL + "/mcp/docs")
            request.headers.add(name: "authorization", value: "Bearer \(key.secret)")
            request.headers.add(name: "accept", value: "text/event-stream")
            request.headers.add(name: "last-event-id", value: "1")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            var text = ""
            var firstChunk: String?
            for try await chunk in response.body where chunk.readableBytes > 0 {
                if firstChunk == nil { firstChunk = String(buffer: chunk) }
                text += String(buffer: chunk)
            }
            #expect(text == "id: 2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"n\":2}}\n\nid: 3\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"n\":3}}\n\n")
            #expect(try await Self.seen(harness, "docs").headers["last-event-id"] == "1")
            // The upstream sends its second event well after its first: a relay that buffered the stream would deliver
            // both at once.
            #expect(firstChunk?.contains("id: 2") == true && firstChunk?.contains("id: 3") == false, "first chunk: \(firstChunk ?? "none")")

            let deleted = try await RelayHarness.send(.DELETE, relay.baseURL + "/mcp/docs", body: nil, headers: [
                ("authorization", "Bearer \(key.secret)"), ("mcp-session-id", "session-docs"),
            ])
            #expect(deleted.status == 204)

            let events = try await harness.waitForEvents(6).filter { $0.endpoint == "mcp" }
            #expect(events.count >= 6 && events.allSatisfy { $0.promptTokens == 0 && $0.costPicoUSD == 0 })
            #expect(Set(events.filter { $0.statusCode < 400 }.map(\.modelName)) == ["docs"])
        }
    }

    @Test func accessListsAndToolAllowListsHoldBeforeAnythingReachesTheServer() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("mcp")
            let allowed = try await harness.createKey(tenant: tenant)
            let outsider = try await harness.createKey(tenant: try await harness.createTenant("outsider"))
            try await Self.server(harness, "private", ["allowed_key_ids": [allowed.id]])
            try await Self.server(harness, "tools-sse", ["allowed_tools": ["search", "read"], "auth_header": "X-Server-Token: tok"])
            try await Self.server(harness, "tools-json", target: "tools", ["allowed_tools": ["read"], "allowed_tenant_ids": [tenant]])
            let relay = try await harness.startRelay()

            let refused = try await Self.rpc(relay, "private", key: outsider.secret, ["jsonrpc": "2.0", "id": 1, "method": "tools/list"])
            #expect(refused.status == 403 && refused.errorType == "permission_denied", "\(refused.body)")
            #expect(try await Self.seen(harness, "private").calls == 0)
            #expect(try await Self.rpc(relay, "private", key: allowed.secret, ["jsonrpc": "2.0", "id": 1, "method": "tools/list"]).status == 200)
            #expect(try await Self.rpc(relay, "tools-json", key: outsider.secret, ["jsonrpc": "2.0", "id": 1, "method": "tools/list"]).status == 403)

            // Listing shows only allowed tools, as JSON and as an event stream.
            let listed = try await Self.rpc(relay, "tools-json", key: allowed.secret, ["jsonrpc": "2.0", "id": 2, "method": "tools/list"])
            let names = ((listed.json["result"] as? [String: Any])?["tools"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["read"], "\(listed.body)")
            let streamed = try await Self.rpc(relay, "tools-sse", key: allowed.secret, ["jsonrpc": "2.0", "id": 3, "method": "tools/list"])
            #expect(streamed.body.hasPrefix("event: message\nid: 1\ndata: ") && streamed.body.contains("\"search\"") && !streamed.body.contains("delete_all"), "\(streamed.body)")
            #expect(try await Self.seen(harness, "tools-sse").headers["x-server-token"] == "tok")

            // A call to a tool off the list is answered by the gateway; the server never sees it.
            let callsBefore = try await Self.seen(harness, "tools-sse").calls
            let blocked = try await Self.rpc(relay, "tools-sse", key: allowed.secret, [
                "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": ["name": "delete_all", "arguments": [:]],
            ])
            #expect(blocked.status == 200 && ((blocked.json["error"] as? [String: Any])?["code"] as? Int) == -32602, "\(blocked.body)")
            let after = try await Self.seen(harness, "tools-sse")
            #expect(after.calls == callsBefore && !after.methods.contains("tools/call"))
            let called = try await Self.rpc(relay, "tools-sse", key: allowed.secret, [
                "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ["name": "search", "arguments": [:]],
            ])
            #expect(called.body.contains("called search"), "\(called.body)")

            // Access changes reach the relay through the normal invalidation path.
            let servers = try await harness.admin(.GET, "/v1/mcp-servers?name=private")
            let privateID = try #require(((servers.json["data"] as? [[String: Any]])?.first)?["id"] as? String)
            let patched = try await harness.admin(.PATCH, "/v1/mcp-servers/\(privateID)", ["allowed_key_ids": NSNull()])
            #expect(patched.status == 200 && patched.json["auth_header"] == nil)
            let opened = try await RelayHardeningTests.waitUntil(.seconds(5)) {
                try await Self.rpc(relay, "private", key: outsider.secret, ["jsonrpc": "2.0", "id": 6, "method": "tools/list"]).status == 200
            }
            #expect(opened != nil)
            for (fields, field) in [
                (["allowed_tools": ["bad tool"]], "allowed_tools"), (["allowed_key_ids": ["not-a-uuid"]], "allowed_key_ids"),
                (["allowed_tenant_ids": "x"], "allowed_tenant_ids"),
            ] as [([String: Any], String)] {
                let reply = try await harness.admin(.PATCH, "/v1/mcp-servers/\(privateID)", fields)
                #expect(reply.status == 400 && (reply.json["error"] as? [String: Any])?["field"] as? String == field, "\(reply.body)")
            }
            let audited = try await harness.scalar(
                "SELECT count(*)::int FROM audit_log WHERE action = 'update_mcp_server' AND entity_id = '\(privateID)'", as: Int.self
            )
            #expect(audited == 1)
        }
    }
}

extension MCPEndToEndTests {
    @Test func aDrainingRelayEndsOpenEventStreamsAndLogsThem() async throws {
        try await RelayHarness.with { harness in
            try await Self.server(harness, "feed-long")
            let key = try await harness.createKey(tenant: try await harness.createTenant("mcp"))
            let relay = try await harness.startRelay(["FAIRWAY_DRAIN_TIMEOUT": "0"])
            var request = HTTPClientRequest(url: relay.baseURL + "/mcp/feed-long")
            request.headers.add(name: "authorization", value: "Bearer \(key.secret)")
            request.headers.add(name: "accept", value: "text/event-stream")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let started = ContinuousClock.now
            var text = ""
            var signalled = false
            do {
                for try await chunk in response.body {
                    text += String(buffer: chunk)
                    if !signalled {
                        signalled = true
                        relay.child.signal(SIGTERM)
                    }
                }
            } catch {
                // The relay closing the connection mid-stream is also an end.
            }
            #expect(ContinuousClock.now - started < .seconds(8), "the stream ended at the drain deadline, not after its 40 events")
            #expect(!text.contains("\"n\":40"))
            #expect(await relay.child.waitForExit(timeout: .seconds(10)) != nil, "the relay exited")
            let logged = try await RelayHardeningTests.waitUntil(.seconds(5)) {
                try await harness.events().contains { $0.endpoint == "mcp" && $0.errorType == "relay_draining" }
            }
            #expect(logged != nil, "the cut stream has its event")
        }
    }
}
