import AsyncHTTPClient
import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension FairShareTests {
    static func count(_ harness: RelayHarness, _ key: String) async throws -> Int {
        Int(try await harness.redisClient.send("ZCARD", key).int ?? -1)
    }

    @Test func noSlotOrQueueEntryLeaksWhateverHappensToTheRequests() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("busy")
            _ = try await harness.admin(.PATCH, "/v1/tenants/\(tenant)", ["max_concurrency": 3])
            let other = try await harness.createTenant("other")
            let keys = [try await harness.createKey(tenant: tenant).secret, try await harness.createKey(tenant: other).secret]
            let deployment = try await harness.createModel("scarce", extra: ["max_concurrency": 4, "timeout_secs": 1])
            let relays = [try await harness.startRelay(Self.fast), try await harness.startRelay(Self.fast)]

            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            defer { _ = http.shutdown() }
            let outcomes = Samples()
            let inFlight = try await Self.sampleInFlight(harness, deployment: deployment) {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<50 {
                        group.addTask {
                            var generator = SystemRandomNumberGenerator()
                            for index in 0..<40 {
                                let roll = Int.random(in: 0..<100, using: &generator)
                                var body: [String: Any] = ["model": "scarce", "messages": RelayHarness.messages()]
                                switch roll {
                                case 0..<10: body["mock"] = ["status": 500]
                                case 10..<11: body["mock"] = ["latency_ms": 1500]
                                case 11..<21: body["stream"] = true
                                default: body["mock"] = ["latency_ms": Int.random(in: 0..<10, using: &generator)]
                                }
                                let disconnect = (21..<36).contains(roll) || (11..<16).contains(roll)
                                var request = HTTPClientRequest(url: relays[(worker + index) % 2].baseURL + "/v1/chat/completions")
                                request.method = .POST
                                request.headers.add(name: "authorization", value: "Bearer \(keys[worker % 2])")
                                request.body = .bytes(ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: body)) ?? Data()))
                                let call = Task { () -> Int in
                                    guard let response = try? await http.execute(request, timeout: .seconds(60)) else { return 0 }
                                    _ = try? await response.body.collect(upTo: 1 << 20)
                                    return Int(response.status.code)
                                }
                                if disconnect {
                                    try? await Task.sleep(for: .milliseconds(Int.random(in: 0..<40, using: &generator)))
                                    call.cancel()
                                }
                                outcomes.append(await call.value)
                            }
                        }
                    }
                }
            }
            #expect(outcomes.values.count == 2000)
            #expect(outcomes.values.contains(200) && outcomes.values.contains(502) && outcomes.values.contains(504), "\(Set(outcomes.values))")
            // Everything settles: no lease and no waiter is left behind, globally or per tenant.
            let slots = "fw:{dep:\(deployment)}:slots", waiting = "fw:{dep:\(deployment)}:waiting", tenantSlots = "fw:{ten:\(tenant)}:slots"
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let (inFlight, queued) = (try await Self.count(harness, slots), try await Self.count(harness, waiting))
                if inFlight == 0 && queued == 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await Self.count(harness, slots) == 0)
            #expect(try await Self.count(harness, waiting) == 0)
            #expect(try await Self.count(harness, tenantSlots) == 0)
            // Never more leases than slots (the mock itself may see more: a request abandoned at its timeout keeps
            // running upstream, which no gateway can stop).
            #expect(inFlight.max() ?? 0 <= 4)
            #expect(inFlight.contains(4), "the run saturated the deployment")
            // Estimates charged at admission are taken back exactly: usage is what was really used, never negative.
            let usage = try await harness.redisClient.send("HGETALL", "fw:fairshare:usage").array ?? []
            let values = stride(from: 1, to: usage.count, by: 2).compactMap { usage[$0].string.flatMap(Double.init) }
            #expect(!values.isEmpty && values.allSatisfy { $0 >= 0 }, "\(values)")
        }
    }

    @Test func slotsOfAKilledRelayComeBackWithinTheLeaseTTL() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let deployment = try await harness.createModel("scarce", extra: ["max_concurrency": 2])
            let settings = Self.fast.merging(["FAIRWAY_LEASE_TTL": "2"]) { _, new in new }
            let doomed = try await harness.startRelay(settings)
            let survivor = try await harness.startRelay(settings)
            let stuck = (0..<2).map { _ in
                Task { try? await RelayHarness.chat(doomed, key: key.secret, ["model": "scarce", "messages": RelayHarness.messages(), "mock": ["latency_ms": 20_000]]) }
            }
            let slots = "fw:{dep:\(deployment)}:slots"
            while try await Self.count(harness, slots) < 2 { try await Task.sleep(for: .milliseconds(20)) }
            doomed.child.signal(SIGKILL)
            _ = await doomed.child.waitForExit(timeout: .seconds(5))
            let started = ContinuousClock.now
            let reply = try await RelayHarness.chat(survivor, key: key.secret, ["model": "scarce", "messages": RelayHarness.messages()])
            let waited = ContinuousClock.now - started
            #expect(reply.status == 200, "\(reply.body)")
            #expect(waited < .milliseconds(3500), "capacity came back after \(waited); lease TTL is 2 s")
            stuck.forEach { $0.cancel() }
        }
    }

    @Test func aFullQueueTimesOutWith503AndRetryAfter() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("single", extra: ["max_concurrency": 1])
            let relay = try await harness.startRelay(Self.fast.merging(["FAIRWAY_QUEUE_TIMEOUT": "1"]) { _, new in new })
            let holder = Task { try await RelayHarness.chat(relay, key: key.secret, ["model": "single", "messages": RelayHarness.messages(), "mock": ["latency_ms": 3000]]) }
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            let refused = try await RelayHarness.chat(relay, key: key.secret, ["model": "single", "messages": RelayHarness.messages()])
            let waited = ContinuousClock.now - started
            #expect(refused.status == 503)
            #expect(refused.errorCode == "capacity_exceeded")
            #expect(refused.headers.contains { $0.0.lowercased() == "retry-after" && (Int($0.1) ?? 0) >= 1 })
            #expect(waited >= .milliseconds(900) && waited < .milliseconds(2500), "queue timeout 1 s, waited \(waited)")
            #expect(try await holder.value.status == 200)
        }
    }

    @Test func overTheTokenQuotaIs429WithRetryAfterAndThenAllowedAgain() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("metered")
            _ = try await harness.admin(.PATCH, "/v1/tenants/\(tenant)", ["tokens_per_minute": 600])
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("model")
            let relay = try await harness.startRelay(Self.fast)
            let body: [String: Any] = ["model": "model", "max_tokens": 1000, "messages": RelayHarness.messages()]
            #expect(try await RelayHarness.chat(relay, key: key.secret, body).status == 200)
            let limited = try await RelayHarness.chat(relay, key: key.secret, body)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limit_exceeded")
            let retryAfter = try #require(limited.headers.first { $0.0.lowercased() == "retry-after" }.flatMap { Int($0.1) })
            // The reservation was settled with the real usage (~14 tokens), so the bucket is only a little short.
            #expect(retryAfter >= 1 && retryAfter <= 5, "Retry-After \(retryAfter) s")
            try await Task.sleep(for: .seconds(retryAfter) + .milliseconds(300))
            let again = try await RelayHarness.chat(relay, key: key.secret, body)
            #expect(again.status == 200, "after Retry-After the tenant is served again: \(again.body)")
            // A small request was never over quota: the refund after the first answer left room.
            let events = try await harness.waitForEvents(3)
            #expect(events.map(\.statusCode).sorted() == [200, 200, 429])
        }
    }

    @Test func withRedisDownAdmissionIsLocalAndReturnsToGlobal() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let deployment = try await harness.createModel("scarce", knobs: "latency_ms=300", extra: ["max_concurrency": 2])
            let relay = try await harness.startRelay(Self.fast.merging(["FAIRWAY_RELAY_REPLICAS_HINT": "1"]) { _, new in new })
            #expect(try await RelayHarness.chat(relay, key: key.secret, ["model": "scarce", "messages": RelayHarness.messages()]).status == 200)
            _ = try await RelayHarness.send(.POST, harness.mock.baseURL + "/mock/reset", body: nil, headers: [])
            await harness.redis.stop()

            let statuses = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask { (try? await RelayHarness.chat(relay, key: key.secret, ["model": "scarce", "messages": RelayHarness.messages()]).status) ?? 0 }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 6), "admitted locally: \(statuses)")
            #expect((try await harness.mockStats()["max_in_flight"] as? Int ?? 99) <= 2, "local capacity 2 ÷ 1 replica")
            let degraded = await relay.get("/metrics").body
            #expect(RelayIntegrationTests.metric("fairway_admission_degraded", in: degraded) == 1)

            let restarted = try await RedisServerProcess(port: harness.redis.port)
            let deadline = ContinuousClock.now + .seconds(10)
            var global = false
            while ContinuousClock.now < deadline && !global {
                global = RelayIntegrationTests.metric("fairway_admission_degraded", in: await relay.get("/metrics").body) == 0
                if !global { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(global, "back to global admission once Redis answers")
            let slow = Task { try await RelayHarness.chat(relay, key: key.secret, ["model": "scarce", "messages": RelayHarness.messages()]) }
            var inRedis = false
            let leaseDeadline = ContinuousClock.now + .seconds(2)
            while !inRedis && ContinuousClock.now < leaseDeadline {
                inRedis = try await Self.count(harness, "fw:{dep:\(deployment)}:slots") == 1
                if !inRedis { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(inRedis, "the lease is in Redis again")
            #expect(try await slow.value.status == 200)
            await restarted.stop()
        }
    }
}

extension FairShareTests {
    @Test func aDeploymentAtItsOwnRateLimitIsSkippedAndQuotaAwareRoutingPrefersHeadroom() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let limited = try await harness.createModel("a-limited", knobs: "tokens=1", extra: ["rpm_limit": 2])
            let spare = try await harness.createModel("b-spare", extra: ["rpm_limit": 600])
            try await harness.createGroup("ordered", members: [(limited, 0), (spare, 1)])
            let relay = try await harness.startRelay(Self.fast)
            for _ in 0..<3 {
                #expect(try await RelayHarness.chat(relay, key: key.secret, ["model": "ordered", "messages": RelayHarness.messages()]).status == 200)
            }
            // Priority order, but A allows 2 requests a minute: the third goes to B without an upstream attempt on A.
            #expect(try await harness.mockCount("/k/tokens=1/v1/chat/completions") == 2)
            #expect(try await harness.mockCount("/v1/chat/completions") == 1)
            let events = try await harness.waitForEvents(3)
            #expect(events.last?.deploymentID?.lowercaseText == spare)
            #expect(events.last?.attempts == 1)

            // quota_aware: A's budget is spent, B's is nearly full, so B comes first.
            let reply = try await harness.admin(.POST, "/v1/model-groups", ["name": "aware", "failover_strategy": "quota_aware"])
            let group = try #require(reply.json["id"] as? String)
            for (model, priority) in [(limited, 0), (spare, 1)] {
                _ = try await harness.admin(.POST, "/v1/model-groups/\(group)/members", ["model_id": model, "priority": priority])
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await RelayHarness.chat(relay, key: key.secret, ["model": "aware", "messages": RelayHarness.messages()]).status == 200)
            #expect(try await harness.mockCount("/v1/chat/completions") == 2)
            // Both exhausted: 503 with Retry-After rather than an upstream call.
            let only = try await harness.admin(.POST, "/v1/model-groups", ["name": "only-limited"])
            let onlyID = try #require(only.json["id"] as? String)
            _ = try await harness.admin(.POST, "/v1/model-groups/\(onlyID)/members", ["model_id": limited, "priority": 0])
            try await Task.sleep(for: .milliseconds(300))
            let refused = try await RelayHarness.chat(relay, key: key.secret, ["model": "only-limited", "messages": RelayHarness.messages()])
            #expect(refused.status == 503)
            #expect(refused.errorCode == "capacity_exceeded")
            #expect(refused.headers.contains { $0.0.lowercased() == "retry-after" })
        }
    }
}

extension FairShareTests {
    @Test func requestsThatUseNothingLeaveNoUsageBehind() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("unlucky")
            let key = try await harness.createKey(tenant: tenant)
            try await harness.createModel("broken", knobs: "status=500,latency_ms=20", extra: ["max_concurrency": 2])
            let relay = try await harness.startRelay(Self.fast)
            for _ in 0..<20 {
                #expect(try await RelayHarness.chat(relay, key: key.secret, ["model": "broken", "messages": RelayHarness.messages()]).status == 502)
            }
            try await Task.sleep(for: .milliseconds(300))
            // Each admission charged an estimate of ~1,000 tokens; every release must take exactly that back.
            let stored = try await harness.redisClient.send("HGET", "fw:fairshare:usage", tenant).string.flatMap(Double.init)
            #expect(abs(stored ?? 1) < 1e-6, "usage left behind: \(String(describing: stored))")
        }
    }
}

extension FairShareTests {
    @Test func aClientThatDisconnectsWhileQueuedLeavesTheQueueAtOnce() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("acme")
            let key = try await harness.createKey(tenant: tenant)
            let deployment = try await harness.createModel("single", extra: ["max_concurrency": 1])
            let relay = try await harness.startRelay(Self.fast)
            let holder = Task {
                try await RelayHarness.chat(relay, key: key.secret, ["model": "single", "messages": RelayHarness.messages(), "mock": ["latency_ms": 3000]])
            }
            let slots = "fw:{dep:\(deployment)}:slots", waiting = "fw:{dep:\(deployment)}:waiting"
            while try await Self.count(harness, slots) < 1 { try await Task.sleep(for: .milliseconds(20)) }
            let waiter = Task { try await RelayHarness.chat(relay, key: key.secret, ["model": "single", "messages": RelayHarness.messages()]) }
            while try await Self.count(harness, waiting) < 1 { try await Task.sleep(for: .milliseconds(20)) }
            waiter.cancel()
            let left = ContinuousClock.now
            while try await Self.count(harness, waiting) > 0 && ContinuousClock.now - left < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
            let took = ContinuousClock.now - left
            #expect(took < .seconds(1), "the abandoned request left the queue after \(took)")
            #expect(try await holder.value.status == 200)
            let events = try await harness.waitForEvents(2)
            #expect(events.contains { $0.statusCode == 499 && $0.errorType == "client_disconnected" }, "\(events.map(\.statusCode))")
            #expect(try await harness.mockCount("/v1/chat/completions") == 1, "the abandoned request never reached the upstream")
        }
    }
}
