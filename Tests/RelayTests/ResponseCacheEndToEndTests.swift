import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The response cache as clients meet it: one relay, the mock upstream, real Redis and Postgres.
@Suite("Response cache end to end", .serialized, .enabled(if: TestServers.enabled))
struct ResponseCacheEndToEndTests {
    static func upstreamCalls(_ harness: RelayHarness) async throws -> Int {
        try await harness.mockStats()["requests"] as? Int ?? -1
    }

    static func chat(
        _ relay: ServiceBinary, _ key: String, _ text: String, model: String = "cached", extra: [String: Any] = [:], cacheControl: String? = nil
    ) async throws -> RelayHarness.Reply {
        var body: [String: Any] = ["model": model, "messages": RelayHarness.messages(text)]
        body.merge(extra) { $1 }
        var headers = [("authorization", "Bearer \(key)"), ("content-type", "application/json")]
        if let cacheControl { headers.append(("cache-control", cacheControl)) }
        return try await RelayHarness.send(.POST, relay.baseURL + "/v1/chat/completions", body: try JSONSerialization.data(withJSONObject: body), headers: headers)
    }

    static func cacheHeader(_ reply: RelayHarness.Reply) -> String? {
        reply.headers.first { $0.0.lowercased() == "x-fairway-cache" }?.1
    }

    static func content(_ reply: RelayHarness.Reply) -> String? {
        ((reply.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    }

    @Test func identicalRequestsHitAndWhatChangesTheAnswerMisses() async throws {
        try await RelayHarness.with { harness in
            let modelID = try await harness.createModel("cached", extra: ["cache_enabled": true, "cache_ttl_secs": 60])
            try await harness.createModel("short", extra: ["cache_enabled": true, "cache_ttl_secs": 2])
            let keyA = try await harness.createKey(tenant: try await harness.createTenant("a"))
            let keyB = try await harness.createKey(tenant: try await harness.createTenant("b"))
            let relay = try await harness.startRelay()

            let first = try await Self.chat(relay, keyA.secret, "hello cache")
            #expect(first.status == 200 && Self.cacheHeader(first) == "miss", "\(first.body)")
            var calls = try await Self.upstreamCalls(harness)
            // The entry is written off the client's path: give it a moment.
            let hit = try await RelayHardeningTests.waitUntil(.seconds(3)) {
                Self.cacheHeader(try await Self.chat(relay, keyA.secret, "hello cache")) == "hit"
            }
            #expect(hit != nil)
            let second = try await Self.chat(relay, keyA.secret, "hello cache", extra: ["user": "someone-else", "stream_options": NSNull()])
            #expect(Self.cacheHeader(second) == "hit" && second.body == first.body, "the same bytes, whoever asks")
            #expect(try await Self.upstreamCalls(harness) == calls, "hits never reach the upstream")

            let variants: [(key: String, extra: [String: Any], cacheControl: String?, why: String)] = [
                (keyA.secret, ["temperature": 0.7], nil, "another temperature"),
                (keyB.secret, [:], nil, "another tenant"),
                (keyA.secret, [:], "no-cache", "no-cache skips the read"),
            ]
            for variant in variants {
                let reply = try await Self.chat(relay, variant.key, "hello cache", extra: variant.extra, cacheControl: variant.cacheControl)
                #expect(reply.status == 200 && Self.cacheHeader(reply) == "miss", "\(variant.why)")
                calls += 1
                #expect(try await Self.upstreamCalls(harness) == calls, "\(variant.why) reaches the upstream")
            }
            _ = try await Self.chat(relay, keyA.secret, "not kept", cacheControl: "no-store")
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.cacheHeader(try await Self.chat(relay, keyA.secret, "not kept")) == "miss", "no-store skipped the write")
            calls += 2

            // A streamed hit replays the answer as chunks.
            let replay = try await RelayHarness.stream(relay, key: keyA.secret, [
                "model": "cached", "stream": true, "messages": RelayHarness.messages("hello cache"),
            ])
            let chunks = replay.payloads.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
            #expect(replay.status == 200 && replay.payloads.last == "[DONE]" && text == Self.content(first))
            // A streamed miss is assembled and stored once complete; the same question unstreamed then hits.
            let streamed = try await RelayHarness.stream(relay, key: keyA.secret, [
                "model": "cached", "stream": true, "messages": RelayHarness.messages("stream me"),
            ])
            let streamedText = streamed.payloads.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
            calls += 1
            #expect(try await Self.upstreamCalls(harness) == calls)
            let assembled = try await RelayHardeningTests.waitUntil(.seconds(3)) {
                Self.cacheHeader(try await Self.chat(relay, keyA.secret, "stream me")) == "hit"
            }
            #expect(assembled != nil)
            #expect(Self.content(try await Self.chat(relay, keyA.secret, "stream me")) == streamedText)
            #expect(try await Self.upstreamCalls(harness) == calls)

            // Hits are events like any other: cache_hit, no cost, no deployment.
            let events = try await harness.waitForEvents(1)
            let hits = events.filter(\.cacheHit)
            #expect(hits.count >= 5 && hits.allSatisfy { $0.costPicoUSD == 0 && $0.statusCode == 200 && $0.deploymentID == nil })

            // Changing the model (not its prices) is a new generation: old entries are never served again.
            let priced = try await harness.admin(.PATCH, "/v1/models/\(modelID)", ["input_cost_per_token": "0.000002"])
            #expect(priced.status == 200)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(Self.cacheHeader(try await Self.chat(relay, keyA.secret, "hello cache")) == "hit", "a price change keeps the cache")
            let changed = try await harness.admin(.PATCH, "/v1/models/\(modelID)", ["timeout_secs": 120])
            #expect(changed.status == 200 && changed.json["cache_generation"] as? Int == 1, "\(changed.body)")
            let missed = try await RelayHardeningTests.waitUntil(.seconds(5)) {
                Self.cacheHeader(try await Self.chat(relay, keyA.secret, "hello cache")) == "miss"
            }
            #expect(missed != nil)
            let off = try await harness.admin(.PATCH, "/v1/models/\(modelID)", ["cache_enabled": false])
            #expect(off.status == 200)
            let uncached = try await RelayHardeningTests.waitUntil(.seconds(5)) {
                Self.cacheHeader(try await Self.chat(relay, keyA.secret, "hello cache")) == nil
            }
            #expect(uncached != nil, "a model with its cache off is not cached at all")

            // Entries expire with the model's TTL (2 s): stored off the client's path, so the hit is awaited; the entry
            // was stored before the hit was seen, so it is gone a TTL after that.
            _ = try await Self.chat(relay, keyA.secret, "brief", model: "short")
            let shortHit = try await RelayHardeningTests.waitUntil(.seconds(2)) {
                Self.cacheHeader(try await Self.chat(relay, keyA.secret, "brief", model: "short")) == "hit"
            }
            #expect(shortHit != nil)
            try await Task.sleep(for: .milliseconds(2300))
            #expect(Self.cacheHeader(try await Self.chat(relay, keyA.secret, "brief", model: "short")) == "miss")
        }
    }

    @Test func hitsTakeNoSlotNoQuotaAndNoBudget() async throws {
        try await RelayHarness.with { harness in
            try await harness.createModel("cached", extra: [
                "cache_enabled": true, "input_cost_per_token": "0", "output_cost_per_token": "0.001", "max_concurrency": 1,
            ])
            let reply = try await harness.admin(.POST, "/v1/tenants", ["name": "thrifty", "max_budget_usd": "0.008"])
            let tenant = try #require(reply.json["id"] as? String)
            let key = try await harness.createKey(tenant: tenant)
            let relay = try await harness.startRelay()
            #expect(try await Self.chat(relay, key.secret, "once").status == 200)
            _ = try await RelayHardeningTests.waitUntil(.seconds(3)) {
                Self.cacheHeader(try await Self.chat(relay, key.secret, "once")) == "hit"
            }
            // The budget is used up: a new question is refused, the cached one is still answered, at no cost.
            let refused = try await Self.chat(relay, key.secret, "twice")
            #expect(refused.status == 429 && refused.errorType == "budget_exceeded", "\(refused.body)")
            for _ in 0..<3 { #expect(try await Self.chat(relay, key.secret, "once").status == 200) }
            let window = BudgetPeriod.monthly.window(atMicroseconds: UnixClock.microseconds())
            let counter = try await harness.redisClient.send("GET", GovernanceKeys.spend(.tenant(try #require(UUID(uuidString: tenant))), window: window))
            #expect(counter.string == "8000000000")
            // Hits hold no admission slot: none is in flight, however many were answered.
            let slots = try await harness.redisClient.send("KEYS", "fw:{dep:*}:slots")
            for slotKey in slots.array ?? [] {
                #expect(try await harness.redisClient.send("ZCARD", slotKey.string ?? "").int == 0)
            }
        }
    }

    @Test func messagesAndResponsesAreCachedAndTheSDKsReadReplays() async throws {
        try await RelayHarness.with { harness in
            try await harness.createModel("cached", extra: ["cache_enabled": true])
            try await harness.createModel("claude-cached", provider: "anthropic", extra: ["cache_enabled": true])
            let key = try await harness.createKey(tenant: try await harness.createTenant("sdk"))
            let relay = try await harness.startRelay()

            let body = try JSONSerialization.data(withJSONObject: [
                "model": "claude-cached", "max_tokens": 32, "messages": RelayHarness.messages("cached claude"),
            ])
            let headers = [("x-api-key", key.secret), ("content-type", "application/json"), ("anthropic-version", "2023-06-01")]
            let first = try await RelayHarness.send(.POST, relay.baseURL + "/v1/messages", body: body, headers: headers)
            #expect(first.status == 200 && Self.cacheHeader(first) == "miss", "\(first.body)")
            let again = try await RelayHardeningTests.waitUntil(.seconds(3)) {
                let reply = try await RelayHarness.send(.POST, relay.baseURL + "/v1/messages", body: body, headers: headers)
                return Self.cacheHeader(reply) == "hit" && reply.body == first.body
            }
            #expect(again != nil)
            let input = try JSONSerialization.data(withJSONObject: ["model": "cached", "input": "cached responses"])
            let openAI = [("authorization", "Bearer \(key.secret)"), ("content-type", "application/json")]
            let response = try await RelayHarness.send(.POST, relay.baseURL + "/v1/responses", body: input, headers: openAI)
            #expect(response.status == 200 && Self.cacheHeader(response) == "miss", "\(response.body)")
            let responseHit = try await RelayHardeningTests.waitUntil(.seconds(3)) {
                Self.cacheHeader(try await RelayHarness.send(.POST, relay.baseURL + "/v1/responses", body: input, headers: openAI)) == "hit"
            }
            #expect(responseHit != nil)

            let run = try await RelayIntegrationTests.runSDKCheck("cache_replay_check.py", environment: [
                "FAIRWAY_RELAY_URL": relay.baseURL, "FAIRWAY_KEY": key.secret,
                "FAIRWAY_OPENAI_MODEL": "cached", "FAIRWAY_ANTHROPIC_MODEL": "claude-cached",
            ])
            guard let run else { return }
            #expect(run.status == 0 && run.output.contains("all checks passed"), "SDK replay checks failed:\n\(run.output)")
        }
    }

    @Test func withRedisDownRequestsStillSucceed() async throws {
        try await RelayHarness.with { harness in
            try await harness.createModel("cached", extra: ["cache_enabled": true])
            let key = try await harness.createKey(tenant: try await harness.createTenant("a"))
            let relay = try await harness.startRelay()
            #expect(try await Self.chat(relay, key.secret, "before").status == 200)
            await harness.redis.stop()
            for text in ["before", "during"] {
                let reply = try await Self.chat(relay, key.secret, text)
                #expect(reply.status == 200 && Self.cacheHeader(reply) == "miss", "\(reply.body)")
            }
        }
    }
}
