import FairwayPostgres
import FairwayRedis
import FairwayRuntime
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// Wires the aggregator process: the request-log stream consumer between Redis and Postgres, plus its operational
/// routes.
public struct AggregatorServer: Sendable {
    public let configuration: AggregatorConfiguration
    public let logger: Logger

    public init(configuration: AggregatorConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func makeApplication() throws -> some ApplicationProtocol {
        let clients = SharedClients(settings: configuration.common, logger: logger)
        let (postgres, redis) = (clients.postgres, clients.redis)
        let schema = SchemaGate(client: postgres, requiredVersion: try Migration.requiredVersion(), logger: logger)

        let writer = RequestLogWriter(client: postgres, logger: logger)
        let consumers: [any Service] = (0..<configuration.consumers).map { index in
            var settings = configuration.ingest
            if configuration.consumers > 1 { settings.consumerName += "-\(index)" }
            return StreamConsumer(redis: redis, writer: writer, settings: settings, logger: logger)
        }
        let maintainer = PartitionMaintainer(
            client: postgres,
            daysAhead: configuration.partitionDaysAhead,
            retentionDays: configuration.logRetentionDays,
            logger: logger
        )

        let router = ProcessBootstrap.router()
        OperationalRoutes(checks: [
            PostgresReadinessCheck(client: postgres, logger: logger),
            RedisReadinessCheck(client: redis),
            SchemaReadinessCheck(gate: schema),
        ]).register(on: router)

        return ProcessBootstrap.application(
            serverName: "fairway-aggregator",
            address: configuration.common.address,
            router: router,
            services: [postgres, redis, schema, AggregatorPipeline(gate: schema, services: consumers + [maintainer])],
            logger: logger
        )
    }
}
