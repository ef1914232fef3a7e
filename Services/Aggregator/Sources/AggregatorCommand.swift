import ArgumentParser
import FairwayCore
import FairwayPostgres
import FairwayRuntime
import Logging
import PostgresNIO

/// `fairway-aggregator`: turns the request-log stream into request logs and daily spend. `serve` is the default.
public struct AggregatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fairway-aggregator",
        abstract: "Fairway spend aggregator: request-log stream → request_logs and daily_spend.",
        subcommands: [Serve.self, Rebuild.self],
        defaultSubcommand: Serve.self
    )

    public init() {}

    public struct Serve: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Consume the request-log stream (default).")

        public init() {}

        public func run() async throws {
            let configuration = try AggregatorConfiguration(environment: .process())
            let logger = ProcessBootstrap.start(logging: configuration.common.logging, label: "fairway.aggregator", service: "aggregator")
            let app = try AggregatorServer(configuration: configuration, logger: logger).makeApplication()
            try await app.runService()
        }
    }

    public struct Rebuild: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Recompute daily_spend for a range of UTC days from request_logs (one transaction per day)."
        )

        @Option(name: .long, help: "First day, YYYY-MM-DD (UTC).")
        var from: String

        @Option(name: .long, help: "Last day, YYYY-MM-DD (UTC), inclusive.")
        var to: String

        public init() {}

        public func validate() throws {
            guard SpendRebuild.days(from: from, to: to) != nil else {
                throw ValidationError("--from and --to must be YYYY-MM-DD dates, from <= to, at most 366 days apart")
            }
        }

        public func run() async throws {
            let environment = EnvironmentReader.process()
            let database = try DatabaseConfiguration(url: try environment.require("DATABASE_URL"))
            let logger = ProcessBootstrap.start(
                logging: try LoggingSettings(environment: environment), label: "fairway.aggregator.rebuild", service: "aggregator"
            )
            let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
            let days = SpendRebuild.days(from: from, to: to) ?? []
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let written = try await SpendRebuild(client: client, logger: logger).rebuild(days: days)
                print("Rebuilt \(days.count) day(s), \(written.values.reduce(0, +)) rollup row(s)")
            }
        }
    }
}
