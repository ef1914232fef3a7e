import FairwayCore
import FairwayRuntime

/// Everything `fairway-management` reads from its environment.
public struct ManagementConfiguration: Sendable {
    public static let defaultPort = 8081
    /// Shorter admin tokens are refused: the token guards every tenant's keys and spend.
    public static let minimumAdminTokenLength = 16

    public var common: CommonSettings
    public var adminToken: String

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        let token = try environment.require("FAIRWAY_ADMIN_TOKEN")
        guard token.count >= Self.minimumAdminTokenLength else {
            throw ConfigurationError(
                variable: "FAIRWAY_ADMIN_TOKEN",
                reason: "must be at least \(Self.minimumAdminTokenLength) characters (e.g. `openssl rand -hex 32`)"
            )
        }
        self.adminToken = token
        self.common = try CommonSettings(environment: environment, defaultPort: Self.defaultPort)
    }
}
