import ArgumentParser
import FairwayCore
import FairwayPostgres
import FairwayRuntime
import Logging
import PostgresNIO

/// `fairway-management`: the control plane. `serve` (default) runs the admin API; `migrate` applies the schema and exits.
public struct ManagementCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fairway-management",
        abstract: "Fairway control plane: admin API, migrations, audit log, spend reports.",
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self
    )

    public init() {}

    public struct Serve: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Run the admin API (default).")

        public init() {}

        public func run() async throws {
            let configuration = try ManagementConfiguration(environment: .process())
            let logger = ProcessBootstrap.start(logging: configuration.common.logging, label: "fairway.management", service: "management")
            let app = try ManagementServer(configuration: configuration, logger: logger).makeApplication()
            try await app.runService()
        }
    }

    public struct Migrate: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Apply the embedded migrations and exit.")

        public init() {}

        public func run() async throws {
            let environment = EnvironmentReader.process()
            let database = try DatabaseConfiguration(url: try environment.require("DATABASE_URL"))
            let logging = try LoggingSettings(environment: environment)
            ProcessLogging.bootstrap(logging)
            let logger = Logger(label: "fairway.management.migrate")
            let runner = try MigrationRunner(migrations: try Migration.embedded(), logger: logger)
            let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let applied = try await runner.run(on: client)
                logger.info("Migrations done", metadata: ["applied": "\(applied)"])
            }
        }
    }
}
