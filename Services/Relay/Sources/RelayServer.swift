import FairwayPostgres
import FairwayRedis
import FairwayRuntime
import Hummingbird
import Logging
import PostgresNIO

/// Wires the relay process: config reads from Postgres, Redis for shared state, the OpenAI-compatible API.
///
/// Readiness is the schema gate only: a relay keeps serving from its caches while Postgres or Redis are down (DESIGN
/// §4, §5.1), so taking it out of the load balancer then would turn a dependency blip into an outage.
public struct RelayServer: Sendable {
    public let configuration: RelayConfiguration
    public let logger: Logger

    public init(configuration: RelayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func makeApplication() throws -> some ApplicationProtocol {
        let clients = SharedClients(settings: configuration.common, logger: logger)
        let (postgres, redis) = (clients.postgres, clients.redis)
        let schema = SchemaGate(client: postgres, requiredVersion: try Migration.requiredVersion(), logger: logger)

        let router = ProcessBootstrap.router()
        OperationalRoutes(checks: [SchemaReadinessCheck(gate: schema)]).register(on: router)

        return ProcessBootstrap.application(
            serverName: "fairway-relay",
            address: configuration.common.address,
            router: router,
            services: [postgres, redis, schema],
            logger: logger
        )
    }
}
