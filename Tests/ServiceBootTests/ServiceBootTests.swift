import FairwayTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The three executables, started as an operator would start them, against the test Postgres and Redis.
@Suite("Service binaries", .enabled(if: TestServers.enabled))
struct ServiceBootTests {
    static let adminToken = "test-admin-token-0123456789"

    func environment(databaseURL: String) throws -> [String: String] {
        [
            "DATABASE_URL": databaseURL,
            "REDIS_URL": try TestServers.redisURL(),
            "FAIRWAY_ADMIN_TOKEN": Self.adminToken,
        ]
    }

    @Test func allThreeStartServeProbesAndExitCleanlyOnSIGTERM() async throws {
        try await TestDatabase.with { database in
            let env = try environment(databaseURL: database.url)

            // The relay started first waits for the schema that only management applies.
            var relayEnv = env
            relayEnv["FAIRWAY_LOG_FORMAT"] = "json"
            let relay = try ServiceBinary("fairway-relay", environment: relayEnv)
            try await Task.sleep(for: .seconds(1))
            let early = await relay.get("/readyz")
            #expect(early.status == 503, "relay must not be ready before the schema exists: \(early)")
            #expect(early.body.contains("schema"))

            let management = try ServiceBinary("fairway-management", environment: env)
            let aggregator = try ServiceBinary("fairway-aggregator", environment: env)
            for service in [management, relay, aggregator] {
                let ready = await service.waitUntilReady()
                #expect(ready, "\(service.name) never became ready:\n\(service.child.output)")
                #expect(await service.get("/healthz").status == 200)
                let metrics = await service.get("/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains("fairway_build_info"), "\(service.name) /metrics:\n\(metrics.body)")
            }

            // FAIRWAY_LOG_FORMAT=json: every line the relay logged is one JSON object with level and message.
            let relayLines = relay.child.output.split(separator: "\n").filter { !$0.isEmpty }
            #expect(!relayLines.isEmpty)
            for line in relayLines {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["level"] is String && object?["msg"] is String, "not a JSON log line: \(line)")
            }

            for service in [relay, aggregator, management] {
                service.child.signal(SIGTERM)
                let status = await service.child.waitForExit(timeout: .seconds(15))
                #expect(status == 0, "\(service.name) exit status \(String(describing: status)):\n\(service.child.output)")
            }
        }
    }

    @Test func managementRefusesToStartWithoutAnAdminToken() async throws {
        var env = try environment(databaseURL: try TestServers.databaseURL())
        env["FAIRWAY_ADMIN_TOKEN"] = nil
        let management = try ServiceBinary("fairway-management", environment: env)
        let status = await management.child.waitForExit(timeout: .seconds(15))
        #expect(status != nil && status != 0)
        #expect(management.child.output.contains("FAIRWAY_ADMIN_TOKEN"), "output:\n\(management.child.output)")
    }

    @Test func badVariableIsNamedAtStartUp() async throws {
        var env = try environment(databaseURL: try TestServers.databaseURL())
        env["REDIS_URL"] = "memcached://localhost"
        let relay = try ServiceBinary("fairway-relay", environment: env)
        let status = await relay.child.waitForExit(timeout: .seconds(15))
        #expect(status != nil && status != 0)
        #expect(relay.child.output.contains("REDIS_URL"), "output:\n\(relay.child.output)")
    }

    @Test func managementRefusesAnAppliedMigrationWhoseTextChanged() async throws {
        try await TestDatabase.with { database in
            let env = try environment(databaseURL: database.url)
            let first = try ServiceBinary("fairway-management", environment: env)
            #expect(await first.waitUntilReady(), "\(first.child.output)")
            await first.child.stop()

            try await database.withClient { client in
                _ = try await client.query(
                    "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1", logger: TestDatabase.logger
                )
            }
            let second = try ServiceBinary("fairway-management", environment: env)
            let status = await second.child.waitForExit(timeout: .seconds(30))
            #expect(status != nil && status != 0)
            #expect(second.child.output.contains("0001_initial.sql"), "output:\n\(second.child.output)")
        }
    }
}
