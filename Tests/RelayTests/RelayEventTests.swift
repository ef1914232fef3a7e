import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

extension RelayIntegrationTests {
    @Test func mixedOutcomesLeaveExactlyOneCorrectEventEach() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("ok-model")
            try await harness.createModel("bad-request", knobs: "status=400")
            try await harness.createModel("down", knobs: "status=503")
            let relay = try await harness.startRelay()

            var expected: [Int: Int] = [:]
            for round in 0..<10 {
                let (model, status) = [("ok-model", 200), ("bad-request", 400), ("down", 502), ("missing", 404)][round % 4]
                let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": model, "messages": RelayHarness.messages()])
                #expect(reply.status == status, "\(model): \(reply.body)")
                expected[status, default: 0] += 1
            }
            let streamed = try await RelayHarness.stream(relay, key: key.secret, ["model": "ok-model", "stream": true, "messages": RelayHarness.messages()])
            #expect(streamed.status == 200)
            expected[200, default: 0] += 1

            let events = try await harness.waitForEvents(11)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await harness.events().count == 11, "exactly one event per request")
            #expect(Set(events.map(\.requestID)).count == events.count)
            #expect(Dictionary(grouping: events, by: \.statusCode).mapValues(\.count) == expected)
            for event in events {
                #expect(event.tenantID.lowercaseText == tenant)
                #expect(event.apiKeyID.lowercaseText == key.id)
                if event.statusCode == 200 {
                    #expect(event.completionTokens == 8)
                    #expect(event.costPicoUSD == event.promptTokens * 1_000_000 + 8 * 3_000_000)
                } else {
                    #expect(event.costPicoUSD == 0)
                }
            }
        }
    }

    @Test func eventsArrivingOneAtATimeWaitOutTheLingerTogetherAndKeepTheirOrder() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("ok-model")
            let relay = try await harness.startRelay(["FAIRWAY_EVENT_LINGER": "1"])
            func requestID() async throws -> String {
                let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": "ok-model", "messages": RelayHarness.messages()])
                #expect(reply.status == 200, "\(reply.body)")
                return try #require(reply.headers.first { $0.0.lowercased() == "x-fairway-request-id" }?.1)
            }
            var ids = [try await requestID()]
            #expect(try await harness.events().isEmpty, "the first event waits out the linger")
            #expect(try await harness.waitForEvents(1).count == 1)
            for _ in 0..<4 { ids.append(try await requestID()) }
            #expect(try await harness.events().count == 1, "the next four wait for the one send")
            let events = try await harness.waitForEvents(5)
            #expect(events.map(\.requestID.lowercaseText) == ids.map { $0.lowercased() }, "once each, in order")
        }
    }

    @Test func eventsSurviveARedisOutageWithoutLossOrDuplicates() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("ok-model")
            // A tiny memory buffer, so the outage also exercises the spill file.
            let relay = try await harness.startRelay(["FAIRWAY_EVENT_BUFFER": "5"])

            var sent = 0
            for _ in 0..<5 {
                let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": "ok-model", "messages": RelayHarness.messages()])
                #expect(reply.status == 200)
                sent += 1
            }
            _ = try await harness.waitForEvents(5)
            await harness.redis.stop()
            for _ in 0..<20 {
                let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": "ok-model", "messages": RelayHarness.messages()])
                #expect(reply.status == 200, "the relay keeps serving while Redis is down: \(reply.body)")
                sent += 1
            }
            let restarted = try await RedisServerProcess(port: harness.redis.port)
            // The restarted Redis is empty: every event must come again from the relay's buffer and spill file.
            let delivered = try await harness.waitForEvents(20, timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(500))
            let all = try await harness.events()
            #expect(delivered.count >= 20)
            #expect(all.count == 20, "the 20 events of the outage, once each; got \(all.count)")
            #expect(Set(all.map(\.requestID)).count == all.count, "duplicates")
            let metrics = await relay.get("/metrics").body
            // A metric that is missing fails here rather than passing as 0.
            #expect(try #require(Self.metric("fairway_request_events_spilled_total", in: metrics)) >= 15, "the spill file was used")
            #expect(try #require(Self.metric("fairway_request_events_lost_total", in: metrics)) == 0, "nothing lost")
            await restarted.stop()
        }
    }
}

extension RelayIntegrationTests {
    /// The value of an unlabelled metric in Prometheus text.
    static func metric(_ name: String, in exposition: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
