import FairwayCore
import NIOSSL
import PostgresNIO

/// `DATABASE_URL` turned into a `PostgresClient` configuration.
public struct DatabaseConfiguration: Sendable {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    public var maximumConnections: Int

    public init(
        host: String,
        port: Int = 5432,
        username: String,
        password: String?,
        database: String,
        tlsMode: TLSMode = .disable,
        maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.maximumConnections = maximumConnections
    }

    /// Parses `postgres://user:pass@host:port/db[?sslmode=disable|prefer|require]`.
    public init(url: String, variable: String = "DATABASE_URL") throws(ConfigurationError) {
        let parsed: ConnectionURL
        do {
            parsed = try ConnectionURL(parsing: url)
        } catch {
            throw ConfigurationError(variable: variable, reason: "not a postgres:// URL (\(error))")
        }
        guard parsed.scheme == "postgres" || parsed.scheme == "postgresql" else {
            throw ConfigurationError(variable: variable, reason: "scheme '\(parsed.scheme)' is not postgres://")
        }
        guard let user = parsed.user else {
            throw ConfigurationError(variable: variable, reason: "no user name (postgres://user:password@host/db)")
        }
        guard !parsed.path.isEmpty else {
            throw ConfigurationError(variable: variable, reason: "no database name (postgres://user:password@host/db)")
        }
        var tlsMode = TLSMode.disable
        if let mode = parsed.query["sslmode"] {
            guard let value = TLSMode(rawValue: mode) else {
                throw ConfigurationError(variable: variable, reason: "sslmode '\(mode)' is not disable, prefer or require")
            }
            tlsMode = value
        }
        var maximumConnections = 20
        if let pool = parsed.query["pool_max"] {
            guard let value = Int(pool), (1...500).contains(value) else {
                throw ConfigurationError(variable: variable, reason: "pool_max '\(pool)' is not a number in 1...500")
            }
            maximumConnections = value
        }
        self.init(
            host: parsed.host,
            port: parsed.port ?? 5432,
            username: user,
            password: parsed.password,
            database: parsed.path,
            tlsMode: tlsMode,
            maximumConnections: maximumConnections
        )
    }

    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        // Every session in UTC: days in rollups and times in API responses never depend on the server's zone. A session
        // left idle inside a transaction (a task cancelled between its statements, its ROLLBACK never sent) is ended by
        // the server after 10 s, so its row locks cannot stall every later write of the same rows; no transaction of
        // ours waits on its client that long.
        configuration.options.additionalStartupParameters = [("TimeZone", "UTC"), ("idle_in_transaction_session_timeout", "10000")]
        return configuration
    }
}
