import FairwayCore
import FairwayTestSupport
import Foundation
import Testing

/// Headless Chromium (Debian's) signs in to a running management and screenshots the spend page.
@Suite("Dashboard in a browser", .enabled(if: TestServers.enabled))
struct DashboardBrowserTests {
    static let token = "browser-test-admin-token-0123456789"

    @Test func chromiumSignsInAndTheSpendChartIsDrawn() async throws {
        guard let python = ProcessInfo.processInfo.environment["FAIRWAY_TEST_PYTHON"] else {
            #expect(!TestServers.isCI, "FAIRWAY_TEST_PYTHON is not set; run through scripts/test")
            return
        }
        try await ManagementProcess.with(adminToken: Self.token) { management, database in
            try await Self.check(management: management, database: database, python: python)
        }
    }

    /// Seeds ten days of spend for three tenants, then lets Chromium sign in and screenshot the spend page.
    static func check(management: ServiceBinary, database: TestDatabase, python: String) async throws {
        let today = CivilDay(microseconds: UnixClock.microseconds())
        try await database.withClient { client in
            for (index, tenant) in ["acme", "globex", "initech"].enumerated() {
                _ = try await client.query("INSERT INTO tenants (name) VALUES (\(tenant))", logger: TestDatabase.logger)
                for day in 0..<10 {
                    let cost = "\(Double((day * 7 + index * 5) % 11 + 1) * 0.37)"
                    _ = try await client.query(
                        """
                        INSERT INTO daily_spend (day, tenant_id, api_key_id, model_name, requests, cost_usd)
                        SELECT \(today.adding(days: Int64(-day)).text)::date, id, gen_random_uuid(), 'gpt-4o', 12, \(cost)::numeric
                        FROM tenants WHERE name = \(tenant)
                        """,
                        logger: TestDatabase.logger
                    )
                }
            }
        }
        let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("fw-dashboard-spend-\(UUID().uuidString).png").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SDK/dashboard_screenshot.py").path
        var environment = ProcessInfo.processInfo.environment
        environment.merge([
            "FAIRWAY_MANAGEMENT_URL": management.baseURL, "FAIRWAY_ADMIN_TOKEN": Self.token, "FAIRWAY_SCREENSHOT": screenshot,
            "FAIRWAY_SPEND_PATH": "/ui/spend?from=\(today.adding(days: -9).text)&to=\(today.text)&by=tenant",
        ]) { $1 }
        let child = try ChildProcess(executable: python, arguments: [script], environment: environment)
        let status = await child.waitForExit(timeout: .seconds(90))
        #expect(status == 0 && child.output.contains("all checks passed"), "browser checks failed:\n\(child.output)")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "a screenshot of \(size) bytes")
        if let keep = ProcessInfo.processInfo.environment["FAIRWAY_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: screenshot, toPath: keep)
        }
        try? FileManager.default.removeItem(atPath: screenshot)
    }
}
