import AsyncHTTPClient
import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import NIOHTTP1
import NIOCore
import PostgresNIO
import Synchronization
import Testing

/// A whole data plane as operators run it: a fresh database, a private Redis (tests stop and disrupt it), the
/// management binary for configuration, the mock upstream, and any number of relay binaries.
final class RelayHarness: Sendable {
    static let adminToken = "relay-harness-admin-token-0123"

    let database: TestDatabase
    let redis: RedisServerProcess
    let redisClient: RedisClient
    let management: ServiceBinary
    let mock: ServiceBinary
    let spillDirectory: String
    private let relays = Mutex<[ServiceBinary]>([])

    private init(database: TestDatabase, redis: RedisServerProcess, management: ServiceBinary, mock: ServiceBinary) {
        self.database = database
        self.redis = redis
        self.redisClient = RedisClient(configuration: redis.configuration)
        self.management = management
        self.mock = mock
        self.spillDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-spill-\(UUID().uuidString)").path
    }

    static func with(_ body: @Sendable (RelayHarness) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let redis = try await RedisServerProcess()
            let management = try ServiceBinary("fairway-management", environment: [
                "DATABASE_URL": database.url, "REDIS_URL": redis.url, "FAIRWAY_ADMIN_TOKEN": adminToken,
            ])
            let mockPort = FreePort.next()
            let mock = try ServiceBinary("fairway-mock-upstream", environment: [:], arguments: ["--port", "\(mockPort)"], port: mockPort)
            let harness = RelayHarness(database: database, redis: redis, management: management, mock: mock)
            defer { harness.redisClient.close() }
            do {
                try #require(await management.waitUntilReady(), "management never became ready:\n\(management.child.output)")
                try #require(await mock.waitUntilReady(), "mock never became ready:\n\(mock.child.output)")
                try await body(harness)
            } catch {
                await harness.stopAll()
                throw error
            }
            await harness.stopAll()
        }
    }

    private func stopAll() async {
        for relay in relays.withLock({ $0 }) { await relay.child.stop() }
        await management.child.stop()
        await mock.child.stop()
        await redis.stop()
        try? FileManager.default.removeItem(atPath: spillDirectory)
    }

    /// Starts a relay and waits until it is ready.
    func startRelay(_ extra: [String: String] = [:], name: String = "relay-\(UUID().uuidString.prefix(8))") async throws -> ServiceBinary {
        var environment = [
            "DATABASE_URL": database.url, "REDIS_URL": redis.url, "FAIRWAY_RELAY_ID": name,
            "FAIRWAY_SPILL_DIR": spillDirectory, "FAIRWAY_CONFIG_POLL_INTERVAL": "1",
        ]
        environment.merge(extra) { _, new in new }
        let relay = try ServiceBinary("fairway-relay", environment: environment)
        relays.withLock { $0.append(relay) }
        try #require(await relay.waitUntilReady(), "relay never became ready:\n\(relay.child.output)")
        return relay
    }

    /// Starts an aggregator on the harness's database and Redis (stopped with everything else).
    func startAggregator() async throws -> ServiceBinary {
        let aggregator = try ServiceBinary("fairway-aggregator", environment: [
            "DATABASE_URL": database.url, "REDIS_URL": redis.url, "FAIRWAY_BATCH_WAIT": "0.1", "FAIRWAY_RECLAIM_IDLE": "2",
            "FAIRWAY_TRIM_INTERVAL": "1",
        ])
        relays.withLock { $0.append(aggregator) }
        try #require(await aggregator.waitUntilReady(), "aggregator never became ready:\n\(aggregator.child.output)")
        return aggregator
    }

    /// A value from Postgres (the harness's own database).
    func scalar<T: PostgresDecodable & Sendable>(_ sql: String, as type: T.Type) async throws -> T? {
        try await database.withClient { client in
            for try await value in try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).decode(T.self) {
                return value
            }
            return nil
        }
    }

    /// Runs SQL on the harness's database, bypassing the management API (so nothing is published).
    func execute(_ sql: String) async throws {
        try await database.withClient { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
        }
    }

    /// Entries pending in the aggregators' consumer group (-1 before the group exists).
    func pendingEntries() async throws -> Int {
        let reply = try? await redisClient.send("XPENDING", RequestLogStream.key, RequestLogStream.group)
        return Int(reply?.array?.first?.int ?? -1)
    }

    // MARK: Configuration through the management API

    struct Reply: Sendable {
        var status: Int
        var body: String
        var headers: [(String, String)]

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var errorType: String? { (json["error"] as? [String: Any])?["type"] as? String }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func admin(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws -> Reply {
        try await Self.send(method, management.baseURL + path, body: body.map { try JSONSerialization.data(withJSONObject: $0) }, headers: [
            ("authorization", "Bearer \(Self.adminToken)"), ("content-type", "application/json"),
        ])
    }

    func createTenant(_ name: String) async throws -> String {
        let reply = try await admin(.POST, "/v1/tenants", ["name": name])
        try #require(reply.status == 201, "\(reply.body)")
        return try #require(reply.json["id"] as? String)
    }

    /// A key for the tenant: (key id, secret).
    func createKey(tenant: String) async throws -> (id: String, secret: String) {
        let reply = try await admin(.POST, "/v1/tenants/\(tenant)/keys", ["name": "test key"])
        try #require(reply.status == 201, "\(reply.body)")
        return (try #require(reply.json["id"] as? String), try #require(reply.json["key"] as? String))
    }

    /// A deployment on the mock; `knobs` make the mock misbehave for this deployment only.
    @discardableResult
    func createModel(_ name: String, provider: String = "openai", knobs: String? = nil, extra: [String: Any] = [:]) async throws -> String {
        let prefix = knobs.map { "/k/\($0)" } ?? ""
        var body: [String: Any] = [
            "model_name": name, "provider": provider, "upstream_model": "up-\(name)",
            "api_base": mock.baseURL + prefix + (provider == "openai" ? "/v1" : ""),
            "input_cost_per_token": "0.000001", "output_cost_per_token": "0.000003",
        ]
        body.merge(extra) { _, new in new }
        let reply = try await admin(.POST, "/v1/models", body)
        try #require(reply.status == 201, "\(reply.body)")
        return try #require(reply.json["id"] as? String)
    }

    func createGroup(_ name: String, members: [(String, Int)]) async throws {
        let reply = try await admin(.POST, "/v1/model-groups", ["name": name])
        try #require(reply.status == 201, "\(reply.body)")
        let id = try #require(reply.json["id"] as? String)
        for (model, priority) in members {
            let added = try await admin(.POST, "/v1/model-groups/\(id)/members", ["model_id": model, "priority": priority])
            try #require(added.status == 201, "\(added.body)")
        }
    }

    // MARK: Traffic

    static func send(_ method: HTTPMethod, _ url: String, body: Data?, headers: [(String, String)], timeout: Duration = .seconds(30)) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: bytes), headers: response.headers.map { ($0.name, $0.value) })
    }

    static func chat(_ relay: ServiceBinary, key: String, _ body: [String: Any], path: String = "/v1/chat/completions") async throws -> Reply {
        try await send(.POST, relay.baseURL + path, body: try JSONSerialization.data(withJSONObject: body), headers: [
            ("authorization", "Bearer \(key)"), ("content-type", "application/json"),
        ])
    }

    static func messages(_ text: String = "Hello there, how are you?") -> [[String: Any]] {
        [["role": "user", "content": text]]
    }

    /// A streamed request: the `data:` payloads and when the first one arrived after sending.
    static func stream(_ relay: ServiceBinary, key: String, _ body: [String: Any]) async throws -> (status: Int, payloads: [String], firstChunkAfter: Duration?, total: Duration) {
        var request = HTTPClientRequest(url: relay.baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let start = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var text = ""
        var first: Duration?
        do {
            for try await chunk in response.body {
                if first == nil { first = ContinuousClock.now - start }
                text += String(buffer: chunk)
            }
        } catch {
            text += "\n[transport error: \(error)]"
        }
        let payloads = text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        return (Int(response.status.code), payloads, first, ContinuousClock.now - start)
    }

    // MARK: Observations

    func mockStats() async throws -> [String: Any] {
        let reply = try await Self.send(.GET, mock.baseURL + "/mock/stats", body: nil, headers: [])
        return reply.json
    }

    func mockCount(_ path: String) async throws -> Int {
        ((try await mockStats())["by_path"] as? [String: Any])?[path] as? Int ?? 0
    }

    /// Every event on `fairway:requests`, decoded.
    func events() async throws -> [RequestLogEvent] {
        let reply = try await redisClient.send("XRANGE", RequestLogStream.key, "-", "+")
        return try (reply.array ?? []).map { entry in
            let pairs = entry.array?.last?.array ?? []
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < pairs.count {
                fields[pairs[index].string ?? ""] = pairs[index + 1].string ?? ""
                index += 2
            }
            return try RequestLogEvent(fields: fields)
        }
    }

    /// Waits until at least `count` events are on the stream.
    func waitForEvents(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [RequestLogEvent] {
        let deadline = ContinuousClock.now + timeout
        var events: [RequestLogEvent] = []
        while ContinuousClock.now < deadline {
            events = (try? await self.events()) ?? []
            if events.count >= count { return events }
            try await Task.sleep(for: .milliseconds(50))
        }
        return events
    }
}
