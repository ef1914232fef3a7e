/// Where a service listens: `FAIRWAY_HOST` / `FAIRWAY_PORT`, with each service's own default port.
public struct ServerAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(environment: EnvironmentReader, defaultPort: Int) throws(ConfigurationError) {
        self.host = environment.string("FAIRWAY_HOST", default: "0.0.0.0")
        self.port = try environment.int("FAIRWAY_PORT", default: defaultPort, in: 0...65535)
    }
}
