import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

extension RelayIntegrationTests {
    /// Polls both relays until each refuses the key; returns how long that took.
    static func timeUntilRefused(_ relays: [ServiceBinary], key: String, limit: Duration) async throws -> Duration? {
        let start = ContinuousClock.now
        var refused = Set<Int>()
        while ContinuousClock.now - start < limit {
            for (index, relay) in relays.enumerated() where !refused.contains(index) {
                let reply = try await RelayHarness.send(.GET, relay.baseURL + "/v1/models", body: nil, headers: [("authorization", "Bearer \(key)")])
                if reply.status == 401 { refused.insert(index) }
            }
            if refused.count == relays.count { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test func aDisabledKeyIsRefusedByEveryRelayWithinASecond() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            // Polling slower than the invariant, so only the pub/sub path can meet it.
            let settings = ["FAIRWAY_CONFIG_POLL_INTERVAL": "30"]
            let relays = [try await harness.startRelay(settings), try await harness.startRelay(settings)]
            for relay in relays {
                let reply = try await RelayHarness.send(.GET, relay.baseURL + "/v1/models", body: nil, headers: [("authorization", "Bearer \(key.secret)")])
                #expect(reply.status == 200, "key must work first (and be cached): \(reply.body)")
            }
            let patched = try await harness.admin(.PATCH, "/v1/keys/\(key.id)", ["disabled": true])
            #expect(patched.status == 200, "\(patched.body)")
            let elapsed = try await Self.timeUntilRefused(relays, key: key.secret, limit: .seconds(5))
            let refusedAfter = try #require(elapsed, "a relay still accepted the disabled key after 5 s")
            #expect(refusedAfter < .seconds(1), "refused after \(refusedAfter)")
        }
    }

    @Test func withoutAnyInvalidationMessageTheKeyIsRefusedWithinThePollInterval() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let relays = [try await harness.startRelay(["FAIRWAY_CONFIG_POLL_INTERVAL": "1"]), try await harness.startRelay(["FAIRWAY_CONFIG_POLL_INTERVAL": "1"])]
            for relay in relays {
                let reply = try await RelayHarness.send(.GET, relay.baseURL + "/v1/models", body: nil, headers: [("authorization", "Bearer \(key.secret)")])
                #expect(reply.status == 200, "key must work first (and be cached for 60 s)")
            }
            // The change is written behind the management API's back: no message is published and no subscriber
            // reconnects, so only `config_version` polling can make the relays notice.
            try await harness.execute("UPDATE api_keys SET disabled = true WHERE id = '\(key.id)'")
            try await harness.execute("UPDATE config_version SET version = version + 1")
            let elapsed = try await Self.timeUntilRefused(relays, key: key.secret, limit: .seconds(10))
            let refusedAfter = try #require(elapsed, "a relay still accepted the disabled key after 10 s: polling is broken")
            // Poll interval 1 s, plus a reload and the probe's own pace.
            #expect(refusedAfter < .seconds(2), "refused after \(refusedAfter)")
        }
    }
}
