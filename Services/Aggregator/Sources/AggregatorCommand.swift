import ArgumentParser
import FairwayCore
import FairwayRuntime

/// `fairway-aggregator`: turns the request-log stream into request logs and daily spend. `serve` is the default.
public struct AggregatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fairway-aggregator",
        abstract: "Fairway spend aggregator: request-log stream → request_logs and daily_spend.",
        subcommands: [Serve.self],
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
}
