import FairwayCore
import FairwayPostgres
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Applies the embedded migrations once Postgres answers, then reports the schema as ready.
///
/// Postgres being down at start-up is retried with backoff (orchestrators start everything at once); a migration that
/// is wrong (changed checksum, failing SQL) stops the process with the error, because serving on a schema that does not
/// match the code would corrupt data.
public final class MigrationService: Sendable, Service {
    private let runner: MigrationRunner
    private let client: PostgresClient
    private let logger: Logger
    private let applied = Atomic<Bool>(false)

    public init(client: PostgresClient, migrations: [Migration], logger: Logger) throws(MigrationError) {
        self.runner = try MigrationRunner(migrations: migrations, logger: logger)
        self.client = client
        self.logger = logger
    }

    public var isApplied: Bool { applied.load(ordering: .acquiring) }

    public func run() async throws {
        let backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        var attempt = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let versions = try await runner.run(on: client)
                logger.info("Database schema is up to date", metadata: [
                    "applied_now": "\(versions)", "version": "\(runner.migrations.last?.version ?? 0)",
                ])
                applied.store(true, ordering: .releasing)
                break
            } catch let error as MigrationError {
                logger.critical("Migrations refused", metadata: ["error": "\(error)"])
                throw error
            } catch {
                if attempt == 0 {
                    logger.warning("Postgres not reachable for migrations; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: backoff.delay(attempt: attempt))
                attempt += 1
            }
        }
        try? await gracefulShutdown()
    }
}
