import AsyncHTTPClient
import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// No request may crash a relay, stall billing, leak a slot or escape its bill (real Postgres, Redis and binaries).
@Suite("Relay hardening", .serialized)
struct RelayHardeningTests {
    static func slots(_ harness: RelayHarness, deployment: String) async throws -> Int {
        Int(try await harness.redisClient.send("ZCARD", "fw:{dep:\(deployment)}:slots").int ?? -1)
    }

    static func waitUntil(_ limit: Duration, _ condition: () async throws -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    /// Whether a reply is what a client may get: a 200, or an error in OpenAI's shape.
    static func isAcceptable(_ reply: RelayHarness.Reply) -> Bool {
        if reply.status == 200 { return true }
        guard let error = reply.json["error"] as? [String: Any] else { return false }
        return error["type"] is String && error["message"] is String
    }

    @Test func fiveThousandGeneratedHostileBodiesCrashNothingLeakNothingAndAreAllBilled() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("hostile")
            _ = try await harness.admin(.PATCH, "/v1/tenants/\(tenant)", ["max_concurrency": 6, "tokens_per_minute": 1_000_000_000])
            let key = try await harness.createKey(tenant: tenant).secret
            let deployment = try await harness.createModel("victim", extra: ["max_concurrency": 4])
            let relays = [try await harness.startRelay(), try await harness.startRelay()]
            let aggregator = try await harness.startAggregator()
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            defer { _ = http.shutdown() }

            let total = 5_000, workers = 16
            let bad = Collected<String>()
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var bodies = HostileBodies(seed: 1_000 + UInt64(worker), model: "victim")
                        for index in stride(from: worker, to: total, by: workers) {
                            let (path, body) = bodies.next()
                            var request = HTTPClientRequest(url: relays[index % 2].baseURL + path)
                            request.method = .POST
                            request.headers.add(name: "authorization", value: "Bearer \(key)")
                            request.headers.add(name: "content-type", value: "application/json")
                            request.body = .bytes(ByteBuffer(bytes: body))
                            do {
                                let response = try await http.execute(request, timeout: .seconds(60))
                                let bytes = try await response.body.collect(upTo: 64 << 20)
                                let reply = RelayHarness.Reply(status: Int(response.status.code), body: String(buffer: bytes), headers: [])
                                if !Self.isAcceptable(reply) { bad.append("\(reply.status) \(reply.body.prefix(200))") }
                            } catch {
                                bad.append("transport: \(error)")
                            }
                        }
                    }
                }
            }
            #expect(bad.values.isEmpty, "\(bad.values.prefix(5))")
            for relay in relays { #expect(relay.child.isRunning, "relay died:\n\(relay.child.output.suffix(3000))") }
            #expect(aggregator.child.isRunning, "aggregator died:\n\(aggregator.child.output.suffix(3000))")

            // Nothing held: no lease, no waiter, no tenant slot.
            let settled = try await Self.waitUntil(.seconds(10)) {
                let counts = [
                    try await harness.redisClient.send("ZCARD", "fw:{dep:\(deployment)}:slots").int,
                    try await harness.redisClient.send("ZCARD", "fw:{dep:\(deployment)}:waiting").int,
                    try await harness.redisClient.send("ZCARD", "fw:{ten:\(tenant)}:slots").int,
                ]
                return counts.allSatisfy { $0 == 0 }
            }
            #expect(settled != nil, "a lease, waiter or tenant slot was left in Redis")
            // Billing keeps up: nothing stays pending, and every emitted event is stored or dead-lettered.
            var emitted = 0
            for relay in relays {
                emitted += Int(try #require(RelayIntegrationTests.metric("fairway_request_events_sent_total", in: await relay.get("/metrics").body)))
            }
            #expect(emitted == total, "every authenticated request emits exactly one event")
            let drained = try await Self.waitUntil(.seconds(10)) { try await harness.pendingEntries() == 0 }
            #expect(drained != nil, "the consumer group still has pending entries")
            var accounted = 0
            _ = try await Self.waitUntil(.seconds(30)) {
                let stored = try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self) ?? 0
                accounted = stored + (try await harness.redisClient.xlen(RequestLogStream.deadLetterKey))
                return accounted >= total
            }
            #expect(accounted == total, "stored + dead-lettered = emitted")
            #expect(try await harness.scalar("SELECT coalesce(sum(requests), 0)::int FROM daily_spend", as: Int.self)
                == (try await harness.scalar("SELECT count(*)::int FROM request_logs", as: Int.self)))
        }
    }

    @Test func aClientThatResetsWhileWaitingForTheFirstByteFreesItsSlotAtOnce() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("resetter")
            let key = try await harness.createKey(tenant: tenant).secret
            let deployment = try await harness.createModel("slow-start", extra: ["max_concurrency": 2])
            let relay = try await harness.startRelay()
            let body = #"{"model":"slow-start","stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"ttft_ms":8000}}"#
            let socket = try RawHTTPClient(port: relay.port)
            try socket.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            let held = try await Self.waitUntil(.seconds(5)) { try await Self.slots(harness, deployment: deployment) == 1 }
            #expect(held != nil, "the request holds a slot while it waits for the first byte")
            socket.reset()
            let freed = try await Self.waitUntil(.seconds(3)) { try await Self.slots(harness, deployment: deployment) == 0 }
            let after = try #require(freed, "the slot was not freed after the client reset")
            #expect(after < .seconds(1), "freed after \(after)")
            let events = try await harness.waitForEvents(1, timeout: .seconds(3))
            #expect(events.count == 1 && events.first?.statusCode == 499 && events.first?.errorType == "client_disconnected")
        }
    }

    @Test func anAbandonedStreamIsBilledForWhatItReadAndChargesTheQuota() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("reader")
            _ = try await harness.admin(.PATCH, "/v1/tenants/\(tenant)", ["tokens_per_minute": 120])
            let key = try await harness.createKey(tenant: tenant).secret
            try await harness.createModel("long-answer")
            let relay = try await harness.startRelay()
            var request = HTTPClientRequest(url: relay.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(key)")
            request.body = .bytes(ByteBuffer(string: #"{"model":"long-answer","stream":true,"max_tokens":60,"messages":[{"role":"user","content":"tell me"}],"mock":{"tokens":200,"tokens_per_second":20}}"#))
            // A client of its own, shut down mid-stream: the connection closes like a client walking away.
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            let response = try await http.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            let reading = Task {
                var chunks = 0
                for try await buffer in response.body {
                    chunks += String(buffer: buffer).components(separatedBy: "data: ").count - 1
                    if chunks >= 4 { return chunks }
                }
                return chunks
            }
            let read = try await reading.value
            #expect(read >= 4)
            reading.cancel()
            try await http.shutdown()
            let events = try await harness.waitForEvents(1, timeout: .seconds(15))
            let event = try #require(events.first)
            #expect(event.statusCode == 499)
            #expect(event.completionTokens > 0 && event.promptTokens > 0, "\(event)")
            #expect(event.costPicoUSD > 0)
            // The tenant's TPM bucket paid for it: without the charge it would be back to (nearly) full.
            let bucket = try await harness.redisClient.send("HGET", "fw:{ten:\(tenant)}:tpm", "tokens")
            let tokens = try #require(Double(bucket.string ?? ""))
            #expect(tokens <= 120 - Double(event.promptTokens + event.completionTokens) + 3, "bucket \(tokens), event \(event.promptTokens)+\(event.completionTokens)")
        }
    }

    @Test func aModelCreatedThroughTheAPIIsServedAtOnceByEveryRelay() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("fast-mover")
            let key = try await harness.createKey(tenant: tenant).secret
            // Slow polling: only read-your-writes can make the new names known in time.
            let relays = [
                try await harness.startRelay(["FAIRWAY_CONFIG_POLL_INTERVAL": "60"]), try await harness.startRelay(["FAIRWAY_CONFIG_POLL_INTERVAL": "60"]),
            ]
            for round in 0..<20 {
                try await harness.createModel("fresh-\(round)")
                async let first = RelayHarness.chat(relays[0], key: key, ["model": "fresh-\(round)", "messages": RelayHarness.messages()])
                async let second = RelayHarness.chat(relays[1], key: key, ["model": "fresh-\(round)", "messages": RelayHarness.messages()])
                let replies = try await [first, second]
                #expect(replies.map(\.status) == [200, 200], "round \(round): \(replies.map { $0.body.prefix(200) })")
            }
        }
    }

    @Test func sigtermDrainsThenCancelsAndEveryStreamGetsItsEvent() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("streamer")
            let key = try await harness.createKey(tenant: tenant).secret
            let deployment = try await harness.createModel("drainable", extra: ["max_concurrency": 30])
            let relay = try await harness.startRelay(["FAIRWAY_DRAIN_TIMEOUT": "2"])
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            defer { _ = http.shutdown() }
            let opened = Collected<Int>()
            let streams = (0..<20).map { _ in
                Task { () -> String in
                    var request = HTTPClientRequest(url: relay.baseURL + "/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "authorization", value: "Bearer \(key)")
                    request.body = .bytes(ByteBuffer(string: #"{"model":"drainable","stream":true,"messages":[{"role":"user","content":"go"}],"mock":{"tokens":300,"tokens_per_second":10}}"#))
                    guard let response = try? await http.execute(request, timeout: .seconds(60)) else { return "" }
                    var text = ""
                    var counted = false
                    do {
                        for try await buffer in response.body {
                            text += String(buffer: buffer)
                            if !counted { counted = true; opened.append(1) }
                        }
                    } catch {}
                    return text
                }
            }
            let allOpen = try await Self.waitUntil(.seconds(15)) { opened.values.count == 20 }
            #expect(allOpen != nil, "streams opened: \(opened.values.count)")
            #expect(try await Self.slots(harness, deployment: deployment) == 20)
            relay.child.signal(SIGTERM)
            let exit = await relay.child.waitForExit(timeout: .seconds(10))
            #expect(exit != nil, "the relay did not exit by itself after the drain timeout")
            var endings: [String] = []
            for stream in streams { endings.append(await stream.value) }
            #expect(endings.allSatisfy { $0.contains("relay_draining") }, "each stream ends with an error event")
            #expect(try await Self.slots(harness, deployment: deployment) == 0, "every lease released")
            let events = try await harness.events()
            #expect(events.count == 20, "one event per stream, flushed before exit")
            #expect(events.allSatisfy { $0.statusCode == 503 && $0.errorType == "relay_draining" && $0.completionTokens > 0 })
        }
    }

    @Test func aFloodOfUnknownKeysIsThrottledWithoutFalse401s() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("legit")
            let warm = try await harness.createKey(tenant: tenant).secret
            let cold = try await harness.createKey(tenant: tenant).secret
            let relay = try await harness.startRelay(["FAIRWAY_AUTH_LOOKUPS_PER_SECOND": "10"])
            let models: @Sendable (String) async throws -> RelayHarness.Reply = { secret in
                try await RelayHarness.send(.GET, relay.baseURL + "/v1/models", body: nil, headers: [("authorization", "Bearer \(secret)")])
            }
            #expect(try await models(warm).status == 200)
            try await Task.sleep(for: .seconds(2))
            let statuses = Collected<Int>()
            let coldStatuses = Collected<Int>()
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let random = "fw-" + String((0..<40).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "a" })
                        let status = (try? await models(index % 30 == 0 ? cold : random).status) ?? 0
                        if index % 30 == 0 { coldStatuses.append(status) } else { statuses.append(status) }
                    }
                }
            }
            let seen = statuses.values
            #expect(Set(seen).isSubset(of: [401, 503]), "\(Set(seen))")
            #expect(seen.contains(503), "lookups beyond the rate are refused with 503")
            #expect(seen.filter { $0 == 401 }.count <= 40, "at most the rate's burst reached Postgres: \(seen.filter { $0 == 401 }.count)")
            #expect(coldStatuses.values.allSatisfy { $0 == 200 || $0 == 503 }, "a real key is never refused as unknown: \(coldStatuses.values)")
            #expect(try await models(warm).status == 200, "a cached key is unaffected")
        }
    }

    @Test func upstreamRedirectsAreNotFollowedAndTransportErrorsNameNoHost() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("careful")
            let key = try await harness.createKey(tenant: tenant).secret
            try await harness.createModel("redirector", knobs: "status=307")
            let closedPort = FreePort.next()
            let reply = try await harness.admin(.POST, "/v1/models", [
                "model_name": "nowhere", "provider": "openai", "upstream_model": "x", "api_base": "http://127.0.0.1:\(closedPort)/v1",
            ])
            #expect(reply.status == 201)
            let relay = try await harness.startRelay()
            let redirected = try await RelayHarness.chat(relay, key: key, ["model": "redirector", "messages": RelayHarness.messages()])
            #expect(redirected.status == 502, "\(redirected.body)")
            #expect(try await harness.mockCount("/k/status=307/v1/chat/completions") == 1, "asked once, not followed")
            let unreachable = try await RelayHarness.chat(relay, key: key, ["model": "nowhere", "messages": RelayHarness.messages()])
            #expect(unreachable.status == 502)
            #expect(!unreachable.body.contains("127.0.0.1") && !unreachable.body.contains("\(closedPort)"), "\(unreachable.body)")
        }
    }

    @Test func aHandedOverSlotIsOnlyAClaimSoACrashedRelaysWaiterCannotHoldIt() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("claims")
            let key = try await harness.createKey(tenant: tenant).secret
            let deployment = try await harness.createModel("single", extra: ["max_concurrency": 1])
            let settings = ["FAIRWAY_LEASE_TTL": "30", "FAIRWAY_QUEUE_TIMEOUT": "15"]
            let survivor = try await harness.startRelay(settings)
            let doomed = try await harness.startRelay(settings)
            let holder = Task { try await RelayHarness.chat(survivor, key: key, ["model": "single", "messages": RelayHarness.messages(), "mock": ["latency_ms": 1500]]) }
            #expect(try await Self.waitUntil(.seconds(5)) { try await Self.slots(harness, deployment: deployment) == 1 } != nil)
            let queued = Task { try? await RelayHarness.chat(doomed, key: key, ["model": "single", "messages": RelayHarness.messages()]) }
            let registered = try await Self.waitUntil(.seconds(5)) {
                try await harness.redisClient.send("ZCARD", "fw:{dep:\(deployment)}:waiting").int == 1
            }
            #expect(registered != nil, "the second relay's request waits")
            doomed.child.signal(SIGKILL)
            _ = await doomed.child.waitForExit(timeout: .seconds(5))
            queued.cancel()
            #expect(try await holder.value.status == 200)
            // The release handed the slot to the dead relay's waiter; the claim lapses in seconds, not a lease TTL.
            let started = ContinuousClock.now
            let next = try await RelayHarness.chat(survivor, key: key, ["model": "single", "messages": RelayHarness.messages()])
            #expect(next.status == 200, "\(next.body)")
            #expect(ContinuousClock.now - started < .seconds(5), "admitted after \(ContinuousClock.now - started)")
        }
    }

    @Test func aRelayWhoseSpillFileCannotBeWrittenIsNotReady() async throws {
        try await RelayHarness.with { harness in
            let relay = try ServiceBinary("fairway-relay", environment: [
                "DATABASE_URL": harness.database.url, "REDIS_URL": harness.redis.url, "FAIRWAY_SPILL_FILE": "/proc/fairway/no/events",
            ])
            defer { Task { await relay.child.stop() } }
            let answered = try await Self.waitUntil(.seconds(30)) { await relay.get("/readyz").status != nil }
            #expect(answered != nil)
            try await Task.sleep(for: .seconds(1))
            let readiness = await relay.get("/readyz")
            #expect(readiness.status == 503 && readiness.body.contains("spill"), "\(readiness)")
            await relay.child.stop()
        }
    }
}

/// A bare TCP client, for what an HTTP client library will not do: reset the connection (SO_LINGER 0).
final class RawHTTPClient: Sendable {
    let descriptor: Int32

    struct Failed: Error { var what: String }

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failed(what: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failed(what: "connect") }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw Failed(what: "send") }
    }

    /// Closes with a TCP reset instead of a FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        _ = Glibc.close(descriptor)
    }
}
