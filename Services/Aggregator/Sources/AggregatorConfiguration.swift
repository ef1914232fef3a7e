import FairwayCore
import FairwayRuntime

/// Everything `fairway-aggregator` reads from its environment.
public struct AggregatorConfiguration: Sendable {
    public static let defaultPort = 8082

    public var common: CommonSettings

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.common = try CommonSettings(environment: environment, defaultPort: Self.defaultPort)
    }
}
