import FairwayCore
import FairwayRuntime

/// Everything `fairway-relay` reads from its environment.
public struct RelayConfiguration: Sendable {
    public static let defaultPort = 8080

    public var common: CommonSettings
    /// Name in logs and request-log events; defaults to hostname + pid so replicas are told apart.
    public var relayID: String

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.common = try CommonSettings(environment: environment, defaultPort: Self.defaultPort)
        self.relayID = environment.string("FAIRWAY_RELAY_ID") ?? ProcessIdentity.hostnameAndPID(fallback: "relay")
    }
}
