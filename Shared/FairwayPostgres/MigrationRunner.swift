import Logging
import PostgresNIO

/// Applies migrations to a database, safely when several replicas start at once.
///
/// All work happens on one connection holding a session-level advisory lock, so concurrent runners queue behind each
/// other and the later ones find nothing left to do. Each migration runs in its own transaction together with its
/// `schema_migrations` row, so a failed file leaves no half-applied schema.
public struct MigrationRunner: Sendable {
    /// Arbitrary, fixed advisory-lock key shared by every Fairway binary ("fairway" in ASCII).
    public static let advisoryLockKey: Int64 = 0x6661_6972_7761_79

    public let migrations: [Migration]
    private let logger: Logger

    public init(migrations: [Migration], logger: Logger) throws(MigrationError) {
        self.migrations = try Migration.ordered(migrations)
        self.logger = logger
    }

    /// Applies what is missing and returns the versions applied by this call (empty when up to date).
    @discardableResult
    public func run(on client: PostgresClient) async throws -> [Int] {
        try await client.withConnection { connection in
            try await run(on: connection)
        }
    }

    public func run(on connection: PostgresConnection) async throws -> [Int] {
        _ = try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
        do {
            let applied = try await applyMissing(on: connection)
            _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
            return applied
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
            throw error
        }
    }

    private func applyMissing(on connection: PostgresConnection) async throws -> [Int] {
        _ = try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )

        var applied: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            applied[version] = (name, checksum)
        }

        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw MigrationError.unknownAppliedVersion(version, name: record.name)
            }
            guard migration.checksum == record.checksum else {
                throw MigrationError.checksumMismatch(
                    fileName: migration.fileName, applied: record.checksum, embedded: migration.checksum
                )
            }
        }

        var newlyApplied: [Int] = []
        for migration in migrations where applied[migration.version] == nil {
            logger.info("Applying migration", metadata: ["migration": "\(migration.fileName)"])
            do {
                _ = try await connection.query("BEGIN", logger: logger)
                for statement in SQLStatementSplitter().statements(in: migration.sql) {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger
                )
                _ = try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError.failed(fileName: migration.fileName, reason: String(reflecting: error))
            }
            newlyApplied.append(migration.version)
        }
        return newlyApplied
    }
}
