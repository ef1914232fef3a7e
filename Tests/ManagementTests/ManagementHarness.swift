import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Management
import NIOCore
import PostgresNIO
import Testing

/// A live management server on a fresh database and the test Redis, with captured logs.
struct ManagementHarness {
    static let token = "harness-admin-token-0123456789"

    let client: any TestClientProtocol
    let database: TestDatabase
    let logs: CapturedLogs

    static func with(_ body: @Sendable (ManagementHarness) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let environment = EnvironmentReader([
                "DATABASE_URL": database.url,
                "REDIS_URL": try TestServers.redisURL(),
                "FAIRWAY_ADMIN_TOKEN": token,
                "FAIRWAY_HOST": "127.0.0.1",
                // Not 0: a kernel-chosen port could be one `FreePort` just handed to a service binary of another
                // test that has not bound it yet (seen: a relay's readiness probe answered by this management).
                "FAIRWAY_PORT": String(FreePort.next()),
            ])
            let logs = CapturedLogs()
            let configuration = try ManagementConfiguration(environment: environment)
            let app = try ManagementServer(configuration: configuration, logger: logs.logger(label: "fairway.management"))
                .makeApplication()
            try await app.test(.live) { client in
                let deadline = ContinuousClock.now + .seconds(30)
                while try await client.execute(uri: "/readyz", method: .get).status != .ok {
                    guard ContinuousClock.now < deadline else {
                        Issue.record("management never became ready:\n\(logs.text)")
                        return
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await body(ManagementHarness(client: client, database: database, logs: logs))
            }
        }
    }

    struct Reply {
        var status: HTTPResponse.Status
        var body: String
        var headers: HTTPFields

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }

        var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
        var errorType: String? { (json["error"] as? [String: Any])?["type"] as? String }
        var data: [[String: Any]] { json["data"] as? [[String: Any]] ?? [] }
        var nextCursor: String? { json["next_cursor"] as? String }
        func string(_ key: String) -> String? { json[key] as? String }
    }

    @discardableResult
    func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        json: [String: Any]? = nil,
        rawBody: String? = nil,
        contentType: String = "application/json",
        token: String? = ManagementHarness.token
    ) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = contentType
        } else if let rawBody {
            body = ByteBuffer(string: rawBody)
            headers[.contentType] = contentType
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
        return Reply(status: response.status, body: String(buffer: response.body), headers: response.headers)
    }

    func query<T: Sendable>(_ sql: String, as type: T.Type) async throws -> [T] where T: PostgresDecodable {
        try await database.withClient { client in
            var values: [T] = []
            for try await value in try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).decode(T.self) {
                values.append(value)
            }
            return values
        }
    }
}
