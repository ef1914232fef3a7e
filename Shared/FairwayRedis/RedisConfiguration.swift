import FairwayCore

/// How to reach Redis and how patient to be with it.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// Connections in the command pool; each pipelines many commands.
    public var poolSize: Int
    public var connectTimeout: Duration
    /// Default time a command may take before the caller gets `RedisError.timeout`.
    public var commandTimeout: Duration
    /// Delays between reconnect attempts; while backing off, commands fail at once instead of piling up.
    public var reconnectBackoff: Backoff

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        poolSize: Int = 4,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(2),
        reconnectBackoff: Backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(1))
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`; `variable` names the setting in errors.
    public init(url: String, variable: String = "REDIS_URL") throws(ConfigurationError) {
        let parsed: ConnectionURL
        do {
            parsed = try ConnectionURL(parsing: url)
        } catch {
            throw ConfigurationError(variable: variable, reason: "not a redis:// URL (\(error))")
        }
        guard parsed.scheme == "redis" else {
            throw ConfigurationError(variable: variable, reason: "scheme '\(parsed.scheme)' is not supported; use redis://")
        }
        var database = 0
        if !parsed.path.isEmpty {
            guard let value = Int(parsed.path), (0...15).contains(value) else {
                throw ConfigurationError(variable: variable, reason: "database '\(parsed.path)' is not a number in 0...15")
            }
            database = value
        }
        self.init(
            host: parsed.host,
            port: parsed.port ?? 6379,
            username: parsed.user,
            password: parsed.password,
            database: database
        )
    }
}
