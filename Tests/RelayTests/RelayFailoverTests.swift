import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

extension RelayIntegrationTests {
    @Test func failsOverToTheNextMemberAndEveryRelaySkipsTheCooledDownOne() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let broken = try await harness.createModel("a-broken", knobs: "status=500")
            let healthy = try await harness.createModel("b-healthy")
            try await harness.createGroup("smart", members: [(broken, 0), (healthy, 1)])
            let settings = ["FAIRWAY_COOLDOWN_FAILURES": "1", "FAIRWAY_COOLDOWN_SECS": "60"]
            let first = try await harness.startRelay(settings)
            let second = try await harness.startRelay(settings)

            let reply = try await RelayHarness.chat(first, key: key.secret, ["model": "smart", "messages": RelayHarness.messages()])
            #expect(reply.status == 200, "\(reply.body)")
            #expect(try await harness.mockCount("/k/status=500/v1/chat/completions") == 1)
            #expect(try await harness.mockCount("/v1/chat/completions") == 1)
            var events = try await harness.waitForEvents(1)
            #expect(events.first?.attempts == 2)
            #expect(events.first?.deploymentID?.lowercaseText == healthy)
            #expect(events.first?.modelGroup == "smart")

            // A is cooling down in Redis: the other relay goes straight to B.
            let again = try await RelayHarness.chat(second, key: key.secret, ["model": "smart", "messages": RelayHarness.messages()])
            #expect(again.status == 200)
            events = try await harness.waitForEvents(2)
            #expect(events.last?.attempts == 1)
            #expect(events.last?.deploymentID?.lowercaseText == healthy)
            #expect(try await harness.mockCount("/k/status=500/v1/chat/completions") == 1, "A must not be tried again")
            #expect(try await harness.mockCount("/v1/chat/completions") == 2, "B served both")
        }
    }

    @Test func clientErrorsFromUpstreamAreReturnedWithoutFailover() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let rejecting = try await harness.createModel("a-rejects", knobs: "status=400")
            let healthy = try await harness.createModel("b-healthy")
            try await harness.createGroup("strict", members: [(rejecting, 0), (healthy, 1)])
            let relay = try await harness.startRelay()

            let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": "strict", "messages": RelayHarness.messages()])
            #expect(reply.status == 400)
            #expect(reply.errorCode == "mock_400", "the upstream's own error body: \(reply.body)")
            #expect(try await harness.mockCount("/k/status=400/v1/chat/completions") == 1)
            #expect(try await harness.mockCount("/v1/chat/completions") == 0, "B must not be tried")
            let events = try await harness.waitForEvents(1)
            #expect(events.first?.statusCode == 400)
            #expect(events.first?.attempts == 1)
        }
    }

    @Test func aStreamThatFailsAfterTheFirstByteEndsWithAnErrorEventAndNoSecondAttempt() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let dropping = try await harness.createModel("a-drops", knobs: "drop_after=3,tokens=10")
            let healthy = try await harness.createModel("b-healthy")
            try await harness.createGroup("flaky", members: [(dropping, 0), (healthy, 1)])
            let relay = try await harness.startRelay()

            let result = try await RelayHarness.stream(relay, key: key.secret, ["model": "flaky", "stream": true, "messages": RelayHarness.messages()])
            #expect(result.status == 200)
            #expect(result.payloads.filter { $0.contains("\"content\":\"tok") }.count == 2)
            let last = try #require(result.payloads.last)
            #expect(last.contains("\"error\""), "stream must end with an error event: \(result.payloads)")
            #expect(last.contains("upstream_stream_error"))
            #expect(try await harness.mockCount("/k/drop_after=3,tokens=10/v1/chat/completions") == 1)
            #expect(try await harness.mockCount("/v1/chat/completions") == 0, "no second attempt after the first byte")
            let events = try await harness.waitForEvents(1)
            #expect(events.first?.statusCode == 502)
            #expect(events.first?.errorType == "upstream_stream_error")
            #expect(events.first?.attempts == 1)
        }
    }
}
