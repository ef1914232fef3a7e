import FairwayPostgres
import Foundation
import Logging
import PostgresNIO

/// A database of its own for one test, created empty on the test server and dropped afterwards, so tests run in
/// parallel without seeing each other's rows.
public struct TestDatabase: Sendable {
    public let name: String
    public let configuration: DatabaseConfiguration
    public let url: String

    /// Errors only: the helpers query as soon as the client's `run()` task is started, and PostgresNIO warns about
    /// each such (queued, harmless) query — hundreds of lines per full run that buried the failures in CI's log.
    public static let logger: Logger = {
        var logger = Logger(label: "fairway.test.postgres")
        logger.logLevel = .error
        return logger
    }()

    /// Creates a fresh database, runs `body`, and drops the database whatever happened.
    public static func with<T: Sendable>(_ body: (TestDatabase) async throws -> T) async throws -> T {
        let adminURL = try TestServers.databaseURL()
        let admin = try DatabaseConfiguration(url: adminURL, variable: "FAIRWAY_TEST_DATABASE_URL")
        let name = "fw_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await execute("CREATE DATABASE \(name)", on: admin)
        var configuration = admin
        configuration.database = String(name)
        configuration.maximumConnections = 10
        let database = TestDatabase(name: String(name), configuration: configuration, url: Self.url(for: configuration))
        do {
            let result = try await body(database)
            try? await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: admin)
            return result
        } catch {
            try? await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: admin)
            throw error
        }
    }

    /// Runs `body` with a running `PostgresClient` on this database.
    public func withClient<T: Sendable>(_ body: (PostgresClient) async throws -> T) async throws -> T {
        try await Self.withClient(configuration, body)
    }

    public static func withClient<T: Sendable>(
        _ configuration: DatabaseConfiguration,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    static func execute(_ sql: String, on configuration: DatabaseConfiguration) async throws {
        try await withClient(configuration) { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    static func url(for configuration: DatabaseConfiguration) -> String {
        let credentials = configuration.password.map { "\(configuration.username):\($0)" } ?? configuration.username
        return "postgres://\(credentials)@\(configuration.host):\(configuration.port)/\(configuration.database)"
    }
}
