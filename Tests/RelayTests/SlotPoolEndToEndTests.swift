import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The slot pool against real Redis and relays: an uncontended deployment costs no round trip per request, its usage
/// still reaches Redis exactly, a waiter elsewhere gets a pooled slot at once, and a stopping relay keeps none.
extension FairShareTests {
    static func pooledAdmissions(_ relay: ServiceBinary) async -> Double {
        RelayIntegrationTests.metric("fairway_admission_pooled_total", in: await relay.get("/metrics").body) ?? 0
    }

    @Test func anUncontendedDeploymentIsServedFromThePoolAndItsUsageIsExact() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("pooled")
            let key = try await harness.createKey(tenant: tenant)
            let deployment = try await harness.createModel("roomy", extra: ["max_concurrency": 4])
            let relay = try await harness.startRelay(Self.fast)
            for _ in 0..<30 {
                let reply = try await RelayHarness.chat(relay, key: key.secret, ["model": "roomy", "messages": RelayHarness.messages(), "max_tokens": 500])
                #expect(reply.status == 200, "\(reply.body)")
            }
            let pooled = await Self.pooledAdmissions(relay)
            #expect(pooled >= 20, "\(pooled) of 30 sequential requests were served from the pool")
            // The idle slot goes back on its own.
            let slots = "fw:{dep:\(deployment)}:slots"
            let freed = try await RelayHardeningTests.waitUntil(.seconds(2)) { try await Self.count(harness, slots) == 0 }
            #expect((freed ?? .seconds(60)) < .seconds(1), "an idle pooled slot was kept \(String(describing: freed))")
            // Usage is what the requests really used: the estimates Redis charged (500 max_tokens each) came back.
            let events = try await harness.waitForEvents(30)
            let used = Double(events.reduce(Int64(0)) { $0 + $1.promptTokens + $1.completionTokens })
            try await Task.sleep(for: .milliseconds(300))
            let stored = try await harness.redisClient.send("HGET", "fw:fairshare:usage", tenant).string.flatMap(Double.init) ?? -1
            // Stored as of the epoch: at most a few seconds of growth at a 300 s half-life.
            #expect(stored >= used * 0.999 && stored <= used * 1.05, "usage \(stored) for \(used) tokens used")
            let active = try await harness.redisClient.send("ZSCORE", "fw:fairshare:active", tenant)
            #expect(active.string != nil, "the tenant is active")
        }
    }

    @Test func aWaiterOnAnotherRelayGetsAPooledSlotWithinAnUpstreamCall() async throws {
        try await RelayHarness.with { harness in
            let busy = try await harness.createTenant("busy")
            let newcomer = try await harness.createTenant("newcomer")
            let busyKey = try await harness.createKey(tenant: busy)
            let newcomerKey = try await harness.createKey(tenant: newcomer)
            _ = try await harness.createModel("pair", knobs: "latency_ms=40", extra: ["max_concurrency": 2])
            let holder = try await harness.startRelay(Self.fast)
            let other = try await harness.startRelay(Self.fast)
            // Two clients keep both slots busy on one relay, which keeps them in its pool between requests.
            let load = (0..<2).map { _ in
                Task {
                    while !Task.isCancelled {
                        _ = try? await RelayHarness.chat(holder, key: busyKey.secret, ["model": "pair", "messages": RelayHarness.messages()])
                    }
                }
            }
            defer { load.forEach { $0.cancel() } }
            try await Task.sleep(for: .milliseconds(800))
            #expect(await Self.pooledAdmissions(holder) >= 5, "the holder serves from its pool")
            // Spaced wider than the contention window, so each request meets a pool that kept its slots; without the
            // contention notice it would wait until they age out (up to a second).
            var waits: [Duration] = []
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(1200))
                let started = ContinuousClock.now
                let reply = try await RelayHarness.chat(other, key: newcomerKey.secret, ["model": "pair", "messages": RelayHarness.messages()])
                #expect(reply.status == 200, "\(reply.body)")
                waits.append(ContinuousClock.now - started)
            }
            #expect(waits.allSatisfy { $0 < .milliseconds(400) }, "the newcomer waited \(waits)")
        }
    }

    @Test func aStoppingRelayGivesItsIdleSlotsBack() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("stopper")
            let key = try await harness.createKey(tenant: tenant)
            let deployment = try await harness.createModel("kept", extra: ["max_concurrency": 4])
            let relay = try await harness.startRelay(Self.fast.merging(["FAIRWAY_SLOT_POOL_IDLE": "0.9"]) { _, new in new })
            async let first = RelayHarness.chat(relay, key: key.secret, ["model": "kept", "messages": RelayHarness.messages(), "mock": ["latency_ms": 50]])
            async let second = RelayHarness.chat(relay, key: key.secret, ["model": "kept", "messages": RelayHarness.messages(), "mock": ["latency_ms": 50]])
            #expect(try await [first.status, second.status] == [200, 200])
            let slots = "fw:{dep:\(deployment)}:slots"
            #expect(try await Self.count(harness, slots) == 2, "both slots idle in the relay's pool")
            let idle = try await RelayHardeningTests.waitUntil(.seconds(2)) {
                RelayIntegrationTests.metric("fairway_admission_pool_idle", in: await relay.get("/metrics").body) == 2
            }
            #expect(idle != nil, "the idle gauge shows them")
            relay.child.signal(SIGTERM)
            #expect(await relay.child.waitForExit(timeout: .seconds(10)) != nil)
            #expect(try await Self.count(harness, slots) == 0, "the stopped relay kept slots (their lease TTL is 30 s)")
        }
    }
}
