import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The relay binaries against real Postgres and Redis and the mock upstream. Serialized: each test runs several
/// processes, and two cores are shared with the build.
@Suite("Relay end to end", .serialized, .enabled(if: TestServers.enabled))
struct RelayIntegrationTests {
    @Test func chatRoundTripPassesTheBodyThroughAndRecordsUsage() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("gpt-test")
            let relay = try await harness.startRelay()

            let reply = try await RelayHarness.chat(relay, key: key.secret, [
                "model": "gpt-test", "temperature": 0.7, "messages": RelayHarness.messages(),
                "vendor_extension": ["keep": true],
            ])
            #expect(reply.status == 200, "\(reply.body)")
            let usage = try #require(reply.json["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 8)

            // Unchanged upstream except `model`: the unknown field and the number's text survive.
            let stats = try await harness.mockStats()
            let sent = try #require(stats["last_body"] as? [String: Any])
            #expect(sent["model"] as? String == "up-gpt-test")
            #expect(sent["vendor_extension"] as? [String: Bool] == ["keep": true])
            let lastBody = try JSONSerialization.data(withJSONObject: sent)
            #expect(String(decoding: lastBody, as: UTF8.self).contains("0.7"))

            let events = try await harness.waitForEvents(1)
            let event = try #require(events.first)
            #expect(event.statusCode == 200)
            #expect(event.tenantID.lowercaseText == tenant)
            #expect(event.apiKeyID.lowercaseText == key.id)
            #expect(event.completionTokens == 8)
            #expect(event.promptTokens == 6)
            // 6 × 0.000001 + 8 × 0.000003 = 0.00003 USD
            #expect(PicoDollars.format(event.costPicoUSD) == "0.00003")
            #expect(event.attempts == 1)
        }
    }

    @Test func streamedChunksArriveAsProducedWithUsage() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            // 20 tokens at 20 tokens/s: the mock needs about a second to finish.
            try await harness.createModel("slow-stream", knobs: "tokens=20,tokens_per_second=20")
            let relay = try await harness.startRelay()

            let result = try await RelayHarness.stream(relay, key: key.secret, [
                "model": "slow-stream", "stream": true, "messages": RelayHarness.messages(),
            ])
            #expect(result.status == 200)
            #expect(result.payloads.last == "[DONE]")
            let contentChunks = result.payloads.filter { $0.contains("\"content\":\"tok") }
            #expect(contentChunks.count == 20)
            let first = try #require(result.firstChunkAfter)
            #expect(first < .milliseconds(500), "first chunk after \(first)")
            #expect(result.total > .milliseconds(800), "stream finished after \(result.total): not paced by the upstream?")
            #expect(first < result.total - .milliseconds(400))
            // The relay asked for usage on the client's behalf and did not forward that chunk.
            #expect(!result.payloads.contains { $0.contains("\"usage\"") })
            let sent = try #require(try await harness.mockStats()["last_body"] as? [String: Any])
            #expect((sent["stream_options"] as? [String: Bool])?["include_usage"] == true)

            let events = try await harness.waitForEvents(1)
            #expect(events.first?.stream == true)
            #expect(events.first?.completionTokens == 20)
            #expect(events.first?.ttftMS != nil)
        }
    }

    @Test func errorsAreOpenAIShapedWithTheRightStatus() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("gpt-test")
            let relay = try await harness.startRelay(["FAIRWAY_MAX_BODY_BYTES": "2048"])

            let badKey = try await RelayHarness.chat(relay, key: "fw-" + String(repeating: "a", count: 40), ["model": "gpt-test", "messages": RelayHarness.messages()])
            #expect(badKey.status == 401)
            #expect(badKey.errorCode == "invalid_api_key")
            let unknown = try await RelayHarness.chat(relay, key: key.secret, ["model": "nope", "messages": RelayHarness.messages()])
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "model_not_found")
            let noModel = try await RelayHarness.chat(relay, key: key.secret, ["messages": RelayHarness.messages()])
            #expect(noModel.status == 400)
            #expect((noModel.json["error"] as? [String: Any])?["param"] as? String == "model")
            let noMessages = try await RelayHarness.chat(relay, key: key.secret, ["model": "gpt-test"])
            #expect(noMessages.status == 400)
            #expect((noMessages.json["error"] as? [String: Any])?["param"] as? String == "messages")
            let badJSON = try await RelayHarness.send(.POST, relay.baseURL + "/v1/chat/completions", body: Data("{\"model\":".utf8), headers: [("authorization", "Bearer \(key.secret)")])
            #expect(badJSON.status == 400)
            #expect(badJSON.errorType == "invalid_request_error")
            let tooLarge = try await RelayHarness.chat(relay, key: key.secret, ["model": "gpt-test", "messages": RelayHarness.messages(String(repeating: "x", count: 4096))])
            #expect(tooLarge.status == 413)
            // Every authenticated request leaves one event; the failed authentication leaves none.
            let events = try await harness.waitForEvents(5)
            #expect(events.map(\.statusCode).sorted() == [400, 400, 400, 404, 413])
        }
    }
}
