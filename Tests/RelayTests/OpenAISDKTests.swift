import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

extension RelayIntegrationTests {
    /// The Python interpreter of the venv `scripts/test` prepares with the official `openai` and `anthropic` packages.
    static var sdkPython: String? { ProcessInfo.processInfo.environment["FAIRWAY_TEST_PYTHON"] }

    /// Runs `Tests/SDK/<script>` with the SDK venv and `environment`; nil when there is no venv outside CI (in CI its
    /// absence fails). The script prints "all checks passed" and exits 0 when every check held.
    static func runSDKCheck(_ script: String, environment extra: [String: String]) async throws -> (status: Int32?, output: String)? {
        guard let python = sdkPython else {
            #expect(!TestServers.isCI, "FAIRWAY_TEST_PYTHON is not set; run through scripts/test")
            return nil
        }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SDK/\(script)").path
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        let child = try ChildProcess(executable: python, arguments: [path], environment: environment)
        let status = await child.waitForExit(timeout: .seconds(120))
        return (status, child.output)
    }

    @Test func theOfficialOpenAIPythonSDKWorksUnchanged() async throws {
        guard Self.sdkPython != nil || TestServers.isCI else { return }
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("sdk")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("gpt-sdk")
            try await harness.createModel("claude-sdk", provider: "anthropic")
            let relay = try await harness.startRelay()

            let run = try await Self.runSDKCheck("openai_sdk_check.py", environment: [
                "FAIRWAY_RELAY_URL": relay.baseURL + "/v1", "FAIRWAY_KEY": key.secret,
                "FAIRWAY_OPENAI_MODEL": "gpt-sdk", "FAIRWAY_ANTHROPIC_MODEL": "claude-sdk",
            ])
            guard let run else { return }
            #expect(run.status == 0 && run.output.contains("all checks passed"), "openai SDK checks failed:\n\(run.output)")
        }
    }
}
