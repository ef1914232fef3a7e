import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

extension RelayIntegrationTests {
    /// The Python interpreter of the venv `scripts/test` prepares with the official `openai` package.
    static var sdkPython: String? { ProcessInfo.processInfo.environment["FAIRWAY_TEST_PYTHON"] }

    @Test func theOfficialOpenAIPythonSDKWorksUnchanged() async throws {
        guard let python = Self.sdkPython else {
            // Outside CI a developer may not have the venv; in CI its absence is a failure, not a skip.
            #expect(!TestServers.isCI, "FAIRWAY_TEST_PYTHON is not set; run through scripts/test")
            return
        }
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("sdk")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("gpt-sdk")
            try await harness.createModel("claude-sdk", provider: "anthropic")
            let relay = try await harness.startRelay()

            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("SDK/openai_sdk_check.py").path
            var environment = ProcessInfo.processInfo.environment
            environment["FAIRWAY_RELAY_URL"] = relay.baseURL + "/v1"
            environment["FAIRWAY_KEY"] = key.secret
            environment["FAIRWAY_OPENAI_MODEL"] = "gpt-sdk"
            environment["FAIRWAY_ANTHROPIC_MODEL"] = "claude-sdk"
            let child = try ChildProcess(executable: python, arguments: [script], environment: environment)
            let status = await child.waitForExit(timeout: .seconds(120))
            #expect(status == 0, "openai SDK checks failed:\n\(child.output)")
            #expect(child.output.contains("all checks passed"), "\(child.output)")
        }
    }
}
