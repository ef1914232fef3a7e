import FairwayCore
import FairwayPostgres
import FairwayTestSupport
import Foundation
import Logging
import NIOHTTP1
import PostgresNIO
import AsyncHTTPClient
import NIOCore
import Testing

extension RelayIntegrationTests {
    @Test func aSlowDeploymentTimesOutAndTheNextMemberAnswers() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let slow = try await harness.createModel("a-slow", knobs: "latency_ms=5000", extra: ["timeout_secs": 1])
            let healthy = try await harness.createModel("b-healthy")
            try await harness.createGroup("patient", members: [(slow, 0), (healthy, 1)])
            let relay = try await harness.startRelay()

            let started = ContinuousClock.now
            let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": "patient", "messages": RelayHarness.messages()])
            let elapsed = ContinuousClock.now - started
            #expect(reply.status == 200, "\(reply.body)")
            #expect(elapsed < .milliseconds(2500), "the 1 s deployment timeout was not applied: \(elapsed)")
            let events = try await harness.waitForEvents(1)
            #expect(events.first?.attempts == 2)
            #expect(events.first?.deploymentID?.lowercaseText == healthy)
        }
    }

    @Test func withPostgresDownKnownKeysKeepWorkingAndUnknownOnesGet503() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let known = try await harness.createKey(tenant: tenant)
            let cold = try await harness.createKey(tenant: tenant)
            try await harness.createModel("ok-model")
            // A short cache TTL: the known key's entry is stale during the outage and must still be honoured.
            let relay = try await harness.startRelay(["FAIRWAY_KEY_CACHE_TTL": "0.5"])
            let warm = try await RelayHarness.chat(relay, key: known.secret, ["model": "ok-model", "messages": RelayHarness.messages()])
            #expect(warm.status == 200)

            let logger = Logger(label: "fairway.test.relay")
            let admin = try DatabaseConfiguration(url: try TestServers.databaseURL(), variable: "FAIRWAY_TEST_DATABASE_URL")
            let name = harness.database.name
            try await TestDatabase.withClient(admin) { client in
                _ = try await client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS false"), logger: logger)
                _ = try await client.query(PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()"), logger: logger)
                do {
                    try await Task.sleep(for: .seconds(1))
                    let served = try await RelayHarness.chat(relay, key: known.secret, ["model": "ok-model", "messages": RelayHarness.messages()])
                    #expect(served.status == 200, "a cached key must keep working while Postgres is down: \(served.body)")
                    let unknown = try await RelayHarness.chat(relay, key: cold.secret, ["model": "ok-model", "messages": RelayHarness.messages()])
                    #expect(unknown.status == 503, "a key that cannot be checked is 503, never 401: \(unknown.body)")
                    #expect(unknown.errorCode == "auth_unavailable")
                } catch {
                    _ = try? await client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true"), logger: logger)
                    throw error
                }
                _ = try await client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) ALLOW_CONNECTIONS true"), logger: logger)
            }
            let deadline = ContinuousClock.now + .seconds(15)
            var status = 0
            while ContinuousClock.now < deadline && status != 200 {
                status = try await RelayHarness.chat(relay, key: cold.secret, ["model": "ok-model", "messages": RelayHarness.messages()]).status
                if status != 200 { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(status == 200, "the cold key works once Postgres is back")
        }
    }
}

extension RelayIntegrationTests {
    @Test func aClientThatLeavesMidStreamIsLoggedAsDisconnected() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("long-stream", knobs: "tokens=100,tokens_per_second=20")
            let relay = try await harness.startRelay()

            let reader = Task {
                var request = HTTPClientRequest(url: relay.baseURL + "/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "authorization", value: "Bearer \(key.secret)")
                request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: [
                    "model": "long-stream", "stream": true, "messages": RelayHarness.messages(),
                ])))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                var chunks = 0
                for try await _ in response.body {
                    chunks += 1
                    if chunks == 3 { break }
                }
                return chunks
            }
            #expect(try await reader.value == 3)
            let events = try await harness.waitForEvents(1, timeout: .seconds(10))
            let event = try #require(events.first, "no event for the abandoned stream")
            #expect(event.statusCode == 499)
            #expect(event.errorType == "client_disconnected")
            #expect(event.latencyMS < 4000, "the relay must stop when the client leaves, not when the upstream ends")
        }
    }
}
