import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `/v1/messages` and `/v1/messages/count_tokens`: Claude Code and the anthropic SDKs through Fairway.
@Suite("Anthropic Messages ingress")
struct MessagesIngressTests {
    @Test func theOfficialAnthropicSDKWorksAgainstEveryKindOfDeployment() async throws {
        guard RelayIntegrationTests.sdkPython != nil || TestServers.isCI else { return }
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("claude-code")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("gpt-behind-messages")
            try await harness.createModel("claude-native", provider: "anthropic")
            let broken = try await harness.createModel("claude-broken", provider: "anthropic", knobs: "status=500")
            let fallback = try await harness.createModel("gpt-fallback")
            try await harness.createGroup("spanning", members: [(broken, 0), (fallback, 1)])
            let relay = try await harness.startRelay()

            let run = try await RelayIntegrationTests.runSDKCheck("anthropic_sdk_check.py", environment: [
                "FAIRWAY_RELAY_BASE": relay.baseURL, "FAIRWAY_KEY": key.secret, "FAIRWAY_MODELS": "gpt-behind-messages,claude-native,spanning",
            ])
            guard let run else { return }
            #expect(run.status == 0 && run.output.contains("all checks passed"), "anthropic SDK checks failed:\n\(run.output)\nrelay:\n\(relay.child.output.suffix(2000))")

            // Every request was billed as a Messages request, and reached daily_spend with the same totals. The last
            // events may still be on their way from the relay's emitter.
            _ = try await RelayHardeningTests.waitUntil(.seconds(10)) {
                try await harness.events().filter { $0.endpoint == "/v1/messages/count_tokens" }.count >= 3
            }
            let events = try await harness.events().filter { $0.endpoint == "/v1/messages" }
            let generating = events.filter { $0.statusCode == 200 }
            #expect(generating.count == 15, "5 generating calls × 3 models")
            #expect(generating.allSatisfy { $0.promptTokens > 0 && $0.completionTokens > 0 && $0.costPicoUSD > 0 }, "\(generating)")
            #expect(events.contains { $0.statusCode == 404 } && events.contains { $0.statusCode == 400 })
            let grouped = generating.filter { $0.modelName == "spanning" }
            // The broken member fails over until its three failures cool it down; the other member serves them all.
            #expect(grouped.count == 5 && grouped.allSatisfy { $0.deploymentID?.lowercaseText == fallback })
            #expect(grouped.first?.attempts == 2 && grouped.filter { $0.attempts == 2 }.count == 3, "\(grouped.map(\.attempts))")
            let counted = try await harness.events().filter { $0.endpoint == "/v1/messages/count_tokens" }
            #expect(counted.count == 3 && counted.allSatisfy { $0.statusCode == 200 && $0.costPicoUSD == 0 }, "\(counted)")
            // Only now the aggregator: it trims what it stored from the stream the checks above read.
            let all = try await harness.events()
            let aggregator = try await harness.startAggregator()
            _ = try await RelayHardeningTests.waitUntil(.seconds(20)) {
                try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self) == all.count
            }
            let cost = try await harness.scalar("SELECT coalesce(sum(cost_usd), 0)::text FROM daily_spend WHERE model_name IN ('gpt-behind-messages', 'claude-native', 'spanning')", as: String.self)
            let expected = all.filter { ["gpt-behind-messages", "claude-native", "spanning"].contains($0.modelName) }.reduce(Decimal(0)) { $0 + $1.costUSD }
            #expect(cost.flatMap { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) } == expected, "daily_spend \(cost ?? "nil"), events \(expected)")
            #expect(aggregator.child.isRunning)
        }
    }

    @Test func aNativeRequestArrivesByteForByteWithItsHeaders() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("cacher")
            let key = try await harness.createKey(tenant: tenant).secret
            try await harness.createModel("claude-cache", provider: "anthropic")
            let relay = try await harness.startRelay()
            // Spacing, escapes and number spelling a re-serialisation would change; cache_control blocks.
            let body = #"{ "model" : "claude-cache", "max_tokens": 1.0e2, "system": [{"type": "text", "text": "long \u00e9 prompt\/x", "cache_control": {"type": "ephemeral"}}],   "messages": [ {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]} ] }"#
            let reply = try await RelayHarness.send(.POST, relay.baseURL + "/v1/messages", body: Data(body.utf8), headers: [
                ("x-api-key", key), ("anthropic-version", "2023-06-01"), ("anthropic-beta", "prompt-caching-2024-07-31,extended-cache-ttl-2025-04-11"),
                ("content-type", "application/json"),
            ])
            #expect(reply.status == 200, "\(reply.body)")
            let stats = try await harness.mockStats()
            let expected = body.replacingOccurrences(of: #""model" : "claude-cache""#, with: #""model" : "up-claude-cache""#)
            #expect(stats["last_body_text"] as? String == expected, "\(stats["last_body_text"] ?? "nil")")
            let headers = stats["last_headers"] as? [String: String]
            #expect(headers?["anthropic-version"] == "2023-06-01")
            #expect(headers?["anthropic-beta"] == "prompt-caching-2024-07-31,extended-cache-ttl-2025-04-11")
        }
    }

    @Test func errorsHaveAnthropicsShapeAndCapacityIsOverloaded() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("shapes")
            let key = try await harness.createKey(tenant: tenant).secret
            // Latency in the deployment's path: a translated request carries no `mock` field upstream.
            try await harness.createModel("tiny", knobs: "latency_ms=2000", extra: ["max_concurrency": 1])
            let relay = try await harness.startRelay(["FAIRWAY_QUEUE_TIMEOUT": "0.5"])
            let send: @Sendable (String, String) async throws -> RelayHarness.Reply = { body, secret in
                try await RelayHarness.send(.POST, relay.baseURL + "/v1/messages", body: Data(body.utf8), headers: [
                    ("x-api-key", secret), ("anthropic-version", "2023-06-01"), ("content-type", "application/json"),
                ])
            }
            func type(_ reply: RelayHarness.Reply) -> String? { (reply.json["error"] as? [String: Any])?["type"] as? String }
            let unauthorized = try await send(#"{"model":"tiny","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#, "fw-" + String(repeating: "y", count: 40))
            #expect(unauthorized.status == 401 && unauthorized.json["type"] as? String == "error" && type(unauthorized) == "authentication_error")
            let missing = try await send(#"{"model":"tiny","messages":[{"role":"user","content":"x"}]}"#, key)
            #expect(missing.status == 400 && type(missing) == "invalid_request_error", "\(missing.body)")
            let unknown = try await send(#"{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#, key)
            #expect(unknown.status == 404 && type(unknown) == "not_found_error")
            let holder = Task { try await send(#"{"model":"tiny","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#, key) }
            try await Task.sleep(for: .milliseconds(300))
            let overloaded = try await send(#"{"model":"tiny","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#, key)
            #expect(overloaded.status == 529 && type(overloaded) == "overloaded_error", "\(overloaded.status) \(overloaded.body)")
            #expect(try await holder.value.status == 200)
        }
    }
}
