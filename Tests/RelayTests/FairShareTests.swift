import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// Fair-share admission across two relays against real Redis (DESIGN §5.1).
@Suite("Fair-share admission", .serialized, .enabled(if: TestServers.enabled))
struct FairShareTests {
    static let fast = ["FAIRWAY_ADMISSION_POLL_INTERVAL": "0.05", "FAIRWAY_FAIRSHARE_REFRESH": "0.1"]

    /// Samples the deployment's global in-flight count (its leases in Redis) every 50 ms while `body` runs.
    static func sampleInFlight(_ harness: RelayHarness, deployment: String, while body: () async throws -> Void) async throws -> [Int] {
        let samples = Samples()
        let redis = harness.redisClient
        let sampler = Task {
            while !Task.isCancelled {
                if let value = try? await redis.send("ZCARD", "fw:{dep:\(deployment)}:slots").int {
                    samples.append(Int(value))
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        try await body()
        sampler.cancel()
        return samples.values
    }

    typealias Samples = Collected<Int>

    @Test func weightedTenantsGetThreeToOneWhileTheDeploymentStaysSaturated() async throws {
        try await RelayHarness.with { harness in
            let a = try await harness.createTenant("tenant-a")
            _ = try await harness.admin(.PATCH, "/v1/tenants/\(a)", ["weight": 300])
            let b = try await harness.createTenant("tenant-b")
            let keyA = try await harness.createKey(tenant: a)
            let keyB = try await harness.createKey(tenant: b)
            let deployment = try await harness.createModel("scarce", knobs: "latency_ms=100,tokens=64", extra: ["max_concurrency": 4])
            let relays = [try await harness.startRelay(Self.fast), try await harness.startRelay(Self.fast)]

            let clients = (0..<16).map { _ in FairShareLoad.Client(tenant: "a", key: keyA.secret) }
                + (0..<16).map { _ in FairShareLoad.Client(tenant: "b", key: keyB.secret) }
            var counts: [String: Int] = [:]
            let start = ContinuousClock.now + .seconds(1)
            let samples = try await Self.sampleInFlight(harness, deployment: deployment) {
                counts = await FairShareLoad(relays: relays, model: "scarce").run(clients, for: .seconds(21), startingAt: start)
            }
            let (doneA, doneB) = (counts["a"] ?? 0, counts["b"] ?? 0)
            let ratio = Double(doneA) / Double(max(1, doneB))
            #expect(abs(ratio - 3) / 3 <= 0.10, "A:B = \(doneA):\(doneB) = \(ratio)")
            // Saturated throughout: never above the cap upstream, at the cap in (almost) every sample after ramp-up.
            let stats = try await harness.mockStats()
            #expect(stats["max_in_flight"] as? Int == 4)
            #expect(samples.allSatisfy { $0 <= 4 })
            let steady = samples.dropFirst(30).dropLast(10)
            let atCap = steady.filter { $0 == 4 }.count
            #expect(Double(atCap) >= Double(steady.count) * 0.9, "in flight samples: \(Array(steady))")
            #expect(doneA + doneB >= 600, "throughput \(doneA + doneB) in 21 s; 4 slots × 100 ms allow 840")

            // Management reports the same state the relays scheduled with.
            let report = try await harness.admin(.GET, "/v1/fairshare")
            #expect(report.status == 200, "\(report.body)")
            let tenants = report.json["tenants"] as? [[String: Any]] ?? []
            let shareOf = { (name: String) in tenants.first { $0["name"] as? String == name }?["share"] as? Double ?? -1 }
            #expect(abs(shareOf("tenant-a") - 0.75) < 1e-9 && abs(shareOf("tenant-b") - 0.25) < 1e-9, "\(tenants)")
            let usageOf = { (name: String) in tenants.first { $0["name"] as? String == name }?["usage"] as? Double ?? 0 }
            #expect(usageOf("tenant-a") > usageOf("tenant-b") * 2)
            let deployments = report.json["deployments"] as? [[String: Any]] ?? []
            #expect(deployments.first?["id"] as? String == deployment)
            #expect(deployments.first?["max_concurrency"] as? Int == 4)
        }
    }

    @Test func aLoneTenantGetsEverySlot() async throws {
        try await RelayHarness.with { harness in
            let b = try await harness.createTenant("tenant-b")
            let key = try await harness.createKey(tenant: b)
            let deployment = try await harness.createModel("scarce", knobs: "latency_ms=100,tokens=64", extra: ["max_concurrency": 4])
            let relays = [try await harness.startRelay(Self.fast), try await harness.startRelay(Self.fast)]
            let clients = (0..<16).map { _ in FairShareLoad.Client(tenant: "b", key: key.secret) }
            var counts: [String: Int] = [:]
            let samples = try await Self.sampleInFlight(harness, deployment: deployment) {
                counts = await FairShareLoad(relays: relays, model: "scarce").run(clients, for: .seconds(4))
            }
            #expect(try await harness.mockStats()["max_in_flight"] as? Int == 4)
            let steady = samples.dropFirst(10).dropLast(5)
            #expect(Double(steady.filter { $0 == 4 }.count) >= Double(steady.count) * 0.9, "work-conserving: \(Array(steady))")
            #expect((counts["b"] ?? 0) >= 100, "4 slots × 10/s × 4 s ≈ 160, got \(counts)")
        }
    }

    @Test func hierarchicalGroupsSplitFirst() async throws {
        try await RelayHarness.with { harness in
            for group in ["g1", "g2"] {
                let reply = try await harness.admin(.POST, "/v1/fairshare-groups", ["name": group, "weight": 1])
                #expect(reply.status == 201, "\(reply.body)")
            }
            var clients: [FairShareLoad.Client] = []
            for (name, group) in [("t1", "g1"), ("t2", "g1"), ("t3", "g2")] {
                let tenant = try await harness.createTenant(name)
                _ = try await harness.admin(.PATCH, "/v1/tenants/\(tenant)", ["group_name": group])
                let key = try await harness.createKey(tenant: tenant)
                clients += (0..<12).map { _ in FairShareLoad.Client(tenant: name, key: key.secret) }
            }
            try await harness.createModel("scarce", knobs: "latency_ms=100,tokens=64", extra: ["max_concurrency": 4])
            let relays = [try await harness.startRelay(Self.fast), try await harness.startRelay(Self.fast)]
            let counts = await FairShareLoad(relays: relays, model: "scarce").run(clients, for: .seconds(12))
            let total = Double(counts.values.reduce(0, +))
            let t3 = Double(counts["t3"] ?? 0) / total
            #expect(abs(t3 - 0.5) <= 0.05, "G2's only tenant should get half: \(counts)")
            let t1 = Double(counts["t1"] ?? 0), t2 = Double(counts["t2"] ?? 0)
            #expect(abs(t1 - t2) / max(t1, t2) <= 0.2, "G1's tenants split their half: \(counts)")
        }
    }

    @Test func aNewcomerIsServedBeforeATenantThatRanAlone() async throws {
        try await RelayHarness.with { harness in
            let a = try await harness.createTenant("veteran")
            let b = try await harness.createTenant("newcomer")
            let keyA = try await harness.createKey(tenant: a)
            let keyB = try await harness.createKey(tenant: b)
            try await harness.createModel("scarce", knobs: "latency_ms=100,tokens=64", extra: ["max_concurrency": 4])
            let relays = [try await harness.startRelay(Self.fast), try await harness.startRelay(Self.fast)]
            let load = FairShareLoad(relays: relays, model: "scarce")
            let veteran = (0..<16).map { _ in FairShareLoad.Client(tenant: "a", key: keyA.secret) }
            let newcomer = (0..<16).map { _ in FairShareLoad.Client(tenant: "b", key: keyB.secret) }
            let alone = await load.run(veteran, for: .seconds(5))
            #expect((alone["a"] ?? 0) >= 80, "the veteran alone had every slot: \(alone)")
            // In the first second both want every slot; the newcomer (no usage yet) ranks first and takes them. Both
            // start that second the same way (new connections), so what each completes in it is comparable.
            let joinAt = ContinuousClock.now + .milliseconds(200)
            async let veteranAfter = load.run(veteran, for: .seconds(1), startingAt: joinAt)
            let joined = await load.run(newcomer, for: .seconds(1), startingAt: joinAt)
            let (newcomerCount, veteranCount) = (joined["b"] ?? 0, (await veteranAfter)["a"] ?? 0)
            #expect(newcomerCount >= 15 && newcomerCount >= 3 * veteranCount, "first second after joining: newcomer \(newcomerCount), veteran \(veteranCount)")
        }
    }
}
