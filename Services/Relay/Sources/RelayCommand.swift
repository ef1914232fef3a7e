import ArgumentParser
import FairwayCore
import FairwayRuntime
import ServiceLifecycle

/// `fairway-relay`: the OpenAI-compatible data plane. `serve` is the default subcommand.
public struct RelayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fairway-relay",
        abstract: "Fairway data plane: OpenAI-compatible API with fair-share admission and failover.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )

    public init() {}

    public struct Serve: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Serve the OpenAI-compatible API (default).")

        public init() {}

        public func run() async throws {
            let configuration = try RelayConfiguration(environment: .process())
            var logger = ProcessBootstrap.start(logging: configuration.common.logging, label: "fairway.relay", service: "relay")
            logger[metadataKey: "relay_id"] = "\(configuration.relayID)"
            let server = RelayServer(configuration: configuration, logger: logger)
            let app = try server.makeApplication()
            // The drain trigger is told of SIGTERM first (services stop in reverse order), so the drain clock runs while
            // the application's server waits for its requests.
            let group = ServiceGroup(configuration: .init(
                services: [
                    .init(service: app),
                    .init(service: DrainTrigger(requests: server.inFlight), successTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
            try await group.run()
        }
    }
}
