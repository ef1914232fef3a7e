import FairwayJSON
import FairwayTestSupport
import Foundation
import Testing

/// The `fairway` binary against a running management binary (real Postgres and Redis).
@Suite("fairway CLI end to end", .serialized, .enabled(if: TestServers.enabled))
struct CLIEndToEndTests {
    static let token = "cli-test-admin-token-0123456789"

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: JSON? { try? JSONParser.parse(stdout) }
    }

    /// Runs `fairway` with separate stdout and stderr files.
    static func fairway(_ arguments: [String], url: String, token: String? = token) async throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ServiceBinary.path(of: "fairway"))
        process.arguments = arguments
        var environment = ["FAIRWAY_MANAGEMENT_URL": url, "PATH": "/usr/bin:/bin"]
        if let token { environment["FAIRWAY_ADMIN_TOKEN"] = token }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return Run(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "", stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    static func withManagement(_ body: @Sendable (String) async throws -> Void) async throws {
        try await ManagementProcess.with(adminToken: token) { management, _ in try await body(management.baseURL) }
    }

    @Test func everyCommandGroupWorksInEveryFormat() async throws {
        try await Self.withManagement { url in
            let created = try await Self.fairway(["tenants", "create", "--set", "name=acme", "--set", "weight=200", "--set", "max_budget_usd=12.5", "--format", "json"], url: url)
            #expect(created.status == 0, "\(created.stderr)")
            let tenant = try #require(created.json?["id"]?.string)
            #expect(created.json?["weight"] == .number("200"))

            let key = try await Self.fairway(["keys", "create", "--tenant", tenant, "--set", "name=ci", "--format", "json"], url: url)
            #expect(key.status == 0 && key.stderr.contains("only time the key is shown"), "\(key.stderr)")
            let keyID = try #require(key.json?["id"]?.string)
            let secret = try #require(key.json?["key"]?.string)
            #expect(secret.hasPrefix("fw-"))
            let rotated = try await Self.fairway(["keys", "rotate", keyID, "--format", "json"], url: url)
            #expect(rotated.status == 0 && rotated.json?["key"]?.string != secret)
            let disabled = try await Self.fairway(["keys", "disable", keyID, "--format", "json"], url: url)
            #expect(disabled.json?["disabled"] == .bool(true))
            let keys = try await Self.fairway(["keys", "list", "--filter", "tenant_id=\(tenant)", "--format", "csv"], url: url)
            let keyLines = keys.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(keyLines.count == 2 && keyLines[0].hasPrefix("id,name") && keyLines[1].hasPrefix(keyID), "\(keys.stdout)")
            let newSecret = rotated.json?["key"]?.string ?? secret
            #expect(!keys.stdout.contains(secret) && !keys.stdout.contains(newSecret), "secrets are never listed, only their prefix")

            let model = try await Self.fairway([
                "models", "create", "--json", #"{"model_name":"gpt-x","provider":"openai","upstream_model":"gpt-x","api_base":"http://127.0.0.1:9/v1","input_cost_per_token":"0.000001","output_cost_per_token":"0.000002"}"#,
                "--format", "json",
            ], url: url)
            #expect(model.status == 0, "\(model.stderr)")
            let modelID = try #require(model.json?["id"]?.string)
            let group = try await Self.fairway(["groups", "create", "--set", "name=team", "--format", "json"], url: url)
            let groupID = try #require(group.json?["id"]?.string, "\(group.stderr)")
            #expect(try await Self.fairway(["groups", "show", groupID, "--format", "json"], url: url).json?["name"] == "team")
            let server = try await Self.fairway(["mcp-servers", "create", "--set", "name=docs", "--set", "base_url=http://127.0.0.1:9/mcp", "--format", "json"], url: url)
            #expect(server.status == 0, "\(server.stderr)")

            let updated = try await Self.fairway(["models", "update", modelID, "--set", "timeout_secs=90", "--format", "json"], url: url)
            #expect(updated.json?["timeout_secs"] == .number("90"))
            let table = try await Self.fairway(["tenants", "list", "--format", "table"], url: url)
            #expect(table.stdout.hasPrefix("ID") && table.stdout.contains("acme") && table.stdout.contains("$12.50"), "\(table.stdout)")
            let tenants = try await Self.fairway(["tenants", "list", "--format", "json"], url: url)
            #expect(tenants.json?.array?.count == 1)

            let spend = try await Self.fairway(["spend", "--from", "2026-01-01", "--to", "2026-12-31", "--group-by", "day,tenant", "--format", "csv"], url: url)
            #expect(spend.status == 0 && spend.stdout.isEmpty == false, "\(spend.stderr)")
            let fairshare = try await Self.fairway(["fairshare", "--format", "json"], url: url)
            #expect(fairshare.status == 0 && fairshare.json?["tenants"]?.array?.count == 1, "\(fairshare.stderr)")
            let budgets = try await Self.fairway(["budgets", "--format", "json"], url: url)
            #expect(budgets.json?.array?.first?["id"]?.string == tenant)

            #expect(try await Self.fairway(["mcp-servers", "delete", try #require(server.json?["id"]?.string)], url: url).status == 0)
            #expect(try await Self.fairway(["groups", "delete", groupID], url: url).status == 0)
            let completion = try await Self.fairway(["--generate-completion-script", "bash"], url: url)
            #expect(completion.status == 0 && completion.stdout.contains("tenants"))
        }
    }

    @Test func failuresGoToStderrWithExitCodesThatSayWhy() async throws {
        try await Self.withManagement { url in
            let refused = try await Self.fairway(["tenants", "list"], url: url, token: "wrong-token-0123456789")
            #expect(refused.status == 77 && refused.stdout.isEmpty && refused.stderr.hasPrefix("error:"), "\(refused.stderr)")
            let invalid = try await Self.fairway(["tenants", "create", "--set", "name=x", "--set", "weight=0"], url: url)
            #expect(invalid.status == 64 && invalid.stderr.contains("(field: weight)"), "\(invalid.stderr)")
            let missing = try await Self.fairway(["tenants", "show", UUID().uuidString], url: url)
            #expect(missing.status == 1, "\(missing.stderr)")
            let usage = try await Self.fairway(["tenants", "frobnicate"], url: url)
            #expect(usage.status == 64 && !usage.stderr.isEmpty)
            let noToken = try await Self.fairway(["tenants", "list"], url: url, token: nil)
            #expect(noToken.status == 64 && noToken.stderr.contains("FAIRWAY_ADMIN_TOKEN"))
            let unreachable = try await Self.fairway(["tenants", "list", "--url", "http://127.0.0.1:9"], url: url)
            #expect(unreachable.status == 69, "\(unreachable.stderr)")
            let traversal = try await Self.fairway(["tenants", "show", "../keys"], url: url)
            #expect(traversal.status == 64)
        }
    }
}
