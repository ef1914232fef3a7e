import FairwayCore
import Foundation
import HTTPTypes
import Testing

@testable import Relay

@Suite("MCP proxy: paths, credentials, tool policy")
struct MCPProxyTests {
    @Test func onlyAPlainNameAfterMcpNamesAServer() {
        #expect(MCPPath.serverName(rawPath: "/mcp/docs") == "docs")
        #expect(MCPPath.serverName(rawPath: "/mcp/a.b_c-1") == "a.b_c-1")
        for path in [
            "/mcp/", "/mcp", "/mcp/a%2Fb", "/mcp/a%2fb", "/mcp/../x", "/mcp/a/../b", "/mcp/a/b", "/mcp/.hidden", "/mcp/..",
            "/mcp/a b", "/mcp/ünï", "/mcp//a", "/MCP/a", "/mcp/a/", "/v1/mcp/a", "/mcp/" + String(repeating: "a", count: 65),
        ] {
            #expect(MCPPath.serverName(rawPath: path) == nil, "\(path)")
        }
    }

    @Test func theCredentialGoesInAuthorizationUnlessItNamesItsHeader() {
        func credential(_ text: String?) -> HTTPField? {
            MCPServer(id: UUID(), name: "s", baseURL: "http://x", authHeader: text).credential
        }
        #expect(credential("Bearer abc") == HTTPField(name: .authorization, value: "Bearer abc"))
        #expect(credential("Bearer a:b") == HTTPField(name: .authorization, value: "Bearer a:b"), "a space before the colon: not a header name")
        #expect(credential("X-Server-Token: tok") == HTTPField(name: HTTPField.Name("x-server-token")!, value: "tok"))
        #expect(credential(nil) == nil && credential("") == nil)
    }

    @Test func accessIsByTenantOrKeyAndEveryoneWhenNeitherIsListed() {
        let tenant = Tenant(id: UUID(), name: "t")
        let key = AuthenticatedKey(key: StoredKey(id: UUID(), tenantID: tenant.id), tenant: tenant)
        var server = MCPServer(id: UUID(), name: "s", baseURL: "http://x")
        #expect(server.admits(key))
        server.allowedTenants = [UUID()]
        #expect(!server.admits(key))
        server.allowedKeys = [key.key.id]
        #expect(server.admits(key))
        server = MCPServer(id: UUID(), name: "s", baseURL: "http://x", allowedTenants: [tenant.id])
        #expect(server.admits(key))
        server = MCPServer(id: UUID(), name: "s", baseURL: "http://x", allowedTenants: [], allowedKeys: [])
        #expect(!server.admits(key), "empty lists admit nobody")
    }

    @Test func aDisallowedCallIsAnsweredWithAJSONRPCError() throws {
        let policy = MCPToolPolicy(allowed: ["search"])
        #expect(policy.refusal(of: Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search"}}"#.utf8)) == nil)
        #expect(policy.refusal(of: Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8)) == nil)
        let refused = try #require(policy.refusal(of: Array(#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"delete_all"}}"#.utf8)))
        let answer = try JSONParser.parse(refused)
        #expect(answer["id"] == "a" && answer["error"]?["code"]?.int == -32602)
        #expect(answer["error"]?["message"]?.string?.contains("delete_all") == true)
        let batch = try #require(policy.refusal(of: Array(#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{}}]"#.utf8)))
        #expect(try JSONParser.parse(batch).array?.count == 2, "a batch with one refused call is refused whole")
    }

    @Test func toolListsAreFilteredInJSONAndInStreamsKeepingEventIDs() throws {
        let policy = MCPToolPolicy(allowed: ["read"])
        let list = #"{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"search"},{"name":"read"}]}}"#
        let filtered = try #require(policy.filtered(list))
        #expect(try JSONParser.parse(filtered)["result"]?["tools"]?.array?.compactMap { $0["name"]?.string } == ["read"])
        #expect(policy.filtered(#"{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"read"}]}}"#) == nil, "nothing to cut")
        #expect(policy.filtered(#"{"jsonrpc":"2.0","method":"notifications/message"}"#) == nil)

        var filter = MCPEventFilter(policy: policy)
        let stream = "event: message\nid: 7\ndata: \(list)\n\nid: 8\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n\n"
        var out: [UInt8] = []
        for byte in Array(stream.utf8) { out += filter.feed([byte]) }
        out += filter.finish()
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasPrefix("event: message\nid: 7\ndata: "))
        #expect(!text.contains("search") && text.contains("\"read\""))
        #expect(text.hasSuffix("id: 8\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n\n"), "other events pass byte for byte")
    }
}
