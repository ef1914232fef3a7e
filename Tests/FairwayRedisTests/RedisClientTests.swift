import FairwayRedis
import FairwayTestSupport
import Foundation
import Testing

@Suite("RedisClient against a real server", .enabled(if: TestServers.enabled))
struct RedisClientTests {
    @Test func thousandConcurrentCommandsOnOneConnectionEachGetTheirOwnReply() async throws {
        var configuration = try TestServers.redisConfiguration()
        configuration.poolSize = 1
        let client = RedisClient(configuration: configuration)
        defer { client.close() }
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    let reply = try await client.send(RedisCommand("ECHO", "reply-\(index)"))
                    return reply.string == "reply-\(index)" ? 0 : 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }

    @Test func pipelineReturnsEveryReplyInOrderWithErrorsAsValues() async throws {
        let client = RedisClient(configuration: try TestServers.redisConfiguration())
        defer { client.close() }
        let key = "fw:test:\(UUID().uuidString)"
        let replies = try await client.pipeline([
            RedisCommand("SET", key, "v"),
            RedisCommand("INCR", key),
            RedisCommand("GET", key),
            RedisCommand("DEL", key),
        ])
        #expect(replies.count == 4)
        #expect(replies[0] == .simpleString("OK"))
        guard case .error(let message) = replies[1] else {
            Issue.record("INCR on a string should be an error reply, got \(replies[1])")
            return
        }
        #expect(message.contains("not an integer"))
        #expect(replies[2].string == "v")
        #expect(replies[3].int == 1)
        await #expect(throws: RedisError.self) { try await client.send(RedisCommand("NOSUCHCOMMAND")) }
    }

    @Test func scriptSurvivesScriptFlush() async throws {
        let server = try await RedisServerProcess()
        let client = RedisClient(configuration: server.configuration)
        defer { client.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await client.evaluate(script, keys: ["counter"], arguments: [5]).int == 5)
        try await client.send(RedisCommand("SCRIPT", "FLUSH"))
        #expect(try await client.send(RedisCommand("SCRIPT", "EXISTS", script.sha1)).array?.first?.int == 0)
        #expect(try await client.evaluate(script, keys: ["counter"], arguments: [2]).int == 7)
        #expect(try await client.send(RedisCommand("SCRIPT", "EXISTS", script.sha1)).array?.first?.int == 1)
        await server.stop()
    }

    @Test func subscriberKeepsReceivingAfterTheServerDropsItAndReportsTheReconnect() async throws {
        let server = try await RedisServerProcess()
        let client = RedisClient(configuration: server.configuration)
        defer { client.close() }
        let subscriber = RedisSubscriber(configuration: server.configuration, channels: ["fw:test:events"])
        let run = Task { try await subscriber.run() }
        defer { run.cancel() }
        var events = subscriber.events.makeAsyncIterator()

        #expect(await events.next() == .subscribed(isReconnect: false))
        try await client.publish("before", to: "fw:test:events")
        #expect(await events.next() == .message(channel: "fw:test:events", payload: "before"))

        let killed = try await client.send(RedisCommand("CLIENT", "KILL", "TYPE", "pubsub")).int
        #expect(killed == 1)
        #expect(await events.next() == .disconnected)
        #expect(await events.next() == .subscribed(isReconnect: true))
        try await client.publish("after", to: "fw:test:events")
        #expect(await events.next() == .message(channel: "fw:test:events", payload: "after"))
        run.cancel()
        await server.stop()
    }

    @Test func streamRoundTrip() async throws {
        let client = RedisClient(configuration: try TestServers.redisConfiguration())
        defer { client.close() }
        let stream = "fw:test:stream:\(UUID().uuidString)"
        defer { Task { try? await client.delete([stream]) } }
        #expect(try await client.xgroupCreate(stream, group: "g") == true)
        #expect(try await client.xgroupCreate(stream, group: "g") == false)

        var ids: [String] = []
        for index in 0..<3 {
            ids.append(try await client.xadd(stream, fields: [("n", "\(index)"), ("kind", "test")]))
        }
        let first = try await client.xreadgroup(stream, group: "g", consumer: "a", count: 10, block: .milliseconds(100))
        #expect(first.map(\.id) == ids)
        #expect(first.map { $0.fields["n"] } == ["0", "1", "2"])
        #expect(try await client.xack(stream, group: "g", ids: [ids[0]]) == 1)

        // Nothing new for another consumer; the two unacked entries can be claimed from "a".
        #expect(try await client.xreadgroup(stream, group: "g", consumer: "b", count: 10, block: .milliseconds(50)).isEmpty)
        let claimed = try await client.xautoclaim(stream, group: "g", consumer: "b", minIdle: .zero)
        #expect(claimed.entries.map(\.id) == Array(ids[1...]))
        #expect(try await client.xreadgroup(stream, group: "g", consumer: "b", count: 10, id: "0").map(\.id) == Array(ids[1...]))
        #expect(try await client.xack(stream, group: "g", ids: Array(ids[1...])) == 2)

        #expect(try await client.xtrim(stream, minID: ids[2]) == 2)
        #expect(try await client.xlen(stream) == 1)
    }

    @Test func stoppedServerFailsFastWithATypedErrorAndRecoversAfterRestart() async throws {
        let server = try await RedisServerProcess()
        let port = server.port
        var configuration = server.configuration
        configuration.commandTimeout = .milliseconds(500)
        configuration.connectTimeout = .milliseconds(500)
        let client = RedisClient(configuration: configuration)
        defer { client.close() }
        try await client.ping()

        await server.stop()
        let clock = ContinuousClock()
        let started = clock.now
        do throws(RedisError) {
            try await client.ping()
            Issue.record("PING to a stopped server succeeded")
        } catch {
            #expect(error.isConnectivity, "expected a connectivity error, got \(error)")
        }
        #expect(clock.now - started < .seconds(2))

        let restarted = try await RedisServerProcess(port: port)
        let deadline = clock.now + .seconds(10)
        var recovered = false
        while clock.now < deadline {
            if (try? await client.ping()) != nil {
                recovered = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(recovered)
        await restarted.stop()
    }
}
