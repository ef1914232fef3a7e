import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `/v1/responses`: Codex and the OpenAI Agents SDK through Fairway, natively or translated through chat.
@Suite("OpenAI Responses ingress")
struct ResponsesIngressTests {
    @Test func theOfficialOpenAISDKResponsesAPIWorksNativeTranslatedAndOnAnthropic() async throws {
        guard RelayIntegrationTests.sdkPython != nil || TestServers.isCI else { return }
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("codex")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("native-responses", extra: ["supports_responses_api": true])
            try await harness.createModel("chat-only")
            try await harness.createModel("claude-responses", provider: "anthropic")
            let relay = try await harness.startRelay()
            let run = try await RelayIntegrationTests.runSDKCheck("openai_responses_check.py", environment: [
                "FAIRWAY_RELAY_URL": relay.baseURL + "/v1", "FAIRWAY_KEY": key.secret,
                "FAIRWAY_MODELS": "native-responses,chat-only,claude-responses", "FAIRWAY_TRANSLATED_MODEL": "chat-only",
            ])
            guard let run else { return }
            #expect(run.status == 0 && run.output.contains("all checks passed"), "openai Responses checks failed:\n\(run.output)\nrelay:\n\(relay.child.output.suffix(2000))")
            // Native requests went to /responses, translated ones to chat (or Anthropic's messages).
            #expect(try await harness.mockCount("/v1/responses") == 5)
            #expect(try await harness.mockCount("/v1/chat/completions") == 5)
            #expect(try await harness.mockCount("/v1/messages") == 5)
            _ = try await RelayHardeningTests.waitUntil(.seconds(10)) {
                try await harness.events().filter { $0.endpoint == "/v1/responses" }.count >= 16
            }
            let events = try await harness.events().filter { $0.endpoint == "/v1/responses" }
            let served = events.filter { $0.statusCode == 200 }
            #expect(served.count == 15 && served.allSatisfy { $0.promptTokens > 0 && $0.completionTokens > 0 && $0.costPicoUSD > 0 }, "\(served)")
            #expect(events.contains { $0.statusCode == 400 && $0.errorType == "unsupported_parameter" })
            // And daily_spend has the same money (the aggregator starts only now: it trims the stream read above).
            let all = try await harness.events()
            _ = try await harness.startAggregator()
            _ = try await RelayHardeningTests.waitUntil(.seconds(20)) {
                try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self) == all.count
            }
            let stored = try await harness.scalar("SELECT coalesce(sum(cost_usd), 0)::text FROM daily_spend", as: String.self)
            let expected = all.reduce(Decimal(0)) { $0 + $1.costUSD }
            #expect(stored.flatMap { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) } == expected, "\(stored ?? "nil") vs \(expected)")
            let tokens = try await harness.scalar("SELECT coalesce(sum(completion_tokens), 0)::int8 FROM daily_spend", as: Int64.self)
            #expect(tokens == all.reduce(0) { $0 + $1.completionTokens })
        }
    }

    @Test func cacheReadTokensArePricedAtTheCachePrice() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("cache-heavy")
            let key = try await harness.createKey(tenant: tenant).secret
            // 4 prompt tokens of which 3 are cache reads; reads cost 0.0000001, the rest 0.000001, output 0.000003.
            try await harness.createModel("claude-priced", provider: "anthropic", knobs: "cached_tokens=3,tokens=2", extra: [
                "cache_read_cost_per_token": "0.0000001", "cache_write_cost_per_token": "0.00000125",
            ])
            let relay = try await harness.startRelay()
            let body = #"{"model":"claude-priced","max_tokens":20,"messages":[{"role":"user","content":"0123456789abcdef"}]}"#
            let reply = try await RelayHarness.send(.POST, relay.baseURL + "/v1/messages", body: Data(body.utf8), headers: [
                ("x-api-key", key), ("anthropic-version", "2023-06-01"), ("content-type", "application/json"),
            ])
            #expect(reply.status == 200, "\(reply.body)")
            let event = try #require(try await harness.waitForEvents(1).first)
            // The mock reports input 4 + cache read 3 (+ 0 written): prompt 7, of which 3 read from the cache.
            #expect(event.promptTokens == 7 && event.cachedTokens == 3 && event.completionTokens == 2, "\(event)")
            #expect(event.costPicoUSD == 4 * 1_000_000 + 3 * 100_000 + 2 * 3_000_000, "\(event.costPicoUSD)")
            let model = try await harness.admin(.GET, "/v1/models?model_name=claude-priced")
            let row = try #require((model.json["data"] as? [[String: Any]])?.first)
            // The API shows numeric columns as JSON numbers (exact text on the wire).
            #expect(row["cache_read_cost_per_token"] as? Double == 0.0000001 && row["supports_responses_api"] as? Bool == false, "\(row)")
            let invalid = try await harness.admin(.POST, "/v1/models", [
                "model_name": "bad-price", "provider": "openai", "upstream_model": "x", "api_base": "http://127.0.0.1:1/v1",
                "cache_read_cost_per_token": "-1",
            ])
            #expect(invalid.status == 400 && (invalid.json["error"] as? [String: Any])?["field"] as? String == "cache_read_cost_per_token")
        }
    }
}
