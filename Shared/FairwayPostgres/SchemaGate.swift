import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Waits until the database carries the schema this build needs.
///
/// Only `management` migrates; the relay and the aggregator run a gate and stay not-ready until the version they were
/// built against is present, so a rolling deploy never points new code at an old schema.
public final class SchemaGate: Sendable, Service {
    public let requiredVersion: Int
    private let client: PostgresClient
    private let pollInterval: Duration
    private let logger: Logger
    private let reached = Atomic<Bool>(false)

    public init(client: PostgresClient, requiredVersion: Int, pollInterval: Duration = .seconds(1), logger: Logger) {
        self.client = client
        self.requiredVersion = requiredVersion
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// True once the schema version was seen; it stays true (schemas do not go backwards).
    public var isOpen: Bool { reached.load(ordering: .acquiring) }

    /// The applied schema version, or nil when no migration ran yet.
    public static func currentVersion(of client: PostgresClient, logger: Logger) async throws -> Int? {
        let rows = try await client.query(
            "SELECT max(version) FROM schema_migrations",
            logger: logger
        )
        for try await version in rows.decode(Int?.self) {
            return version
        }
        return nil
    }

    public func run() async throws {
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if let version = try await Self.currentVersion(of: client, logger: logger), version >= requiredVersion {
                    reached.store(true, ordering: .releasing)
                    logger.info("Database schema is ready", metadata: ["version": "\(version)"])
                    break
                }
                if !warned {
                    logger.info("Waiting for database schema", metadata: ["required_version": "\(requiredVersion)"])
                    warned = true
                }
            } catch {
                if !warned {
                    logger.warning("Waiting for database schema", metadata: ["error": "\(String(reflecting: error))"])
                    warned = true
                }
            }
            try? await Task.sleep(for: pollInterval)
        }
        try? await gracefulShutdown()
    }
}
