import FairwayCore
import FairwayPostgres
import FairwayRedis
import FairwayRuntime
import Hummingbird
import Logging
import PostgresNIO

/// Wires the management process: Postgres pool, Redis publisher, migrations, admin API and operational routes.
public struct ManagementServer: Sendable {
    public let configuration: ManagementConfiguration
    public let logger: Logger

    public init(configuration: ManagementConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func makeApplication() throws -> some ApplicationProtocol {
        let clients = SharedClients(settings: configuration.common, logger: logger)
        let (postgres, redis) = (clients.postgres, clients.redis)
        let migrations = try MigrationService(client: postgres, migrations: try Migration.embedded(), logger: logger)

        let router = ProcessBootstrap.router()
        OperationalRoutes(checks: [
            PostgresReadinessCheck(client: postgres, logger: logger),
            RedisReadinessCheck(client: redis),
            ClosureReadinessCheck {
                migrations.isApplied
                    ? ReadinessResult(name: "migrations", ready: true)
                    : ReadinessResult(name: "migrations", ready: false, detail: "not applied yet")
            },
        ]).register(on: router)
        let store = ConfigStore(
            client: postgres,
            publisher: RedisInvalidationPublisher(redis: redis, logger: logger),
            logger: logger
        )
        let fairshare = FairshareReport(
            store: store, redis: redis, mode: configuration.fairshareMode, halfLife: configuration.fairshareHalfLife
        )
        try DashboardRoutes(adminToken: configuration.adminToken, store: store, fairshare: fairshare).register(on: router)
        AdminAPI(
            store: store, adminToken: configuration.adminToken,
            fairshare: fairshare,
            budgets: BudgetReport(store: store, redis: redis)
        ).register(on: router)

        return ProcessBootstrap.application(
            serverName: "fairway-management",
            address: configuration.common.address,
            router: router,
            services: [postgres, redis, migrations],
            logger: logger
        )
    }
}
