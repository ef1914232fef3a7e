import FairwayCore
import FairwayPostgres
import FairwayRedis

/// The settings every service reads the same way (DESIGN §1): where Postgres and Redis are, where to listen, how to log.
public struct CommonSettings: Sendable {
    public var database: DatabaseConfiguration
    public var redis: RedisConfiguration
    public var address: ServerAddress
    public var logging: LoggingSettings

    public init(database: DatabaseConfiguration, redis: RedisConfiguration, address: ServerAddress, logging: LoggingSettings) {
        self.database = database
        self.redis = redis
        self.address = address
        self.logging = logging
    }

    public init(environment: EnvironmentReader, defaultPort: Int) throws(ConfigurationError) {
        self.database = try DatabaseConfiguration(url: try environment.require("DATABASE_URL"))
        self.redis = try RedisConfiguration(url: try environment.require("REDIS_URL"))
        self.address = try ServerAddress(environment: environment, defaultPort: defaultPort)
        self.logging = try LoggingSettings(environment: environment)
    }
}
