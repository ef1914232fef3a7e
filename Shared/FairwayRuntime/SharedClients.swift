import FairwayRedis
import Logging
import PostgresNIO

/// The Postgres pool and Redis client every service starts from its common settings; both are `Service`s to run in
/// the process's service group.
public struct SharedClients: Sendable {
    public let postgres: PostgresClient
    public let redis: RedisClient

    public init(settings: CommonSettings, logger: Logger) {
        postgres = PostgresClient(configuration: settings.database.clientConfiguration, backgroundLogger: logger)
        redis = RedisClient(configuration: settings.redis, logger: logger)
    }
}
