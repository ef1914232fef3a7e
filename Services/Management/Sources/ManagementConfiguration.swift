import FairShare
import FairwayCore
import FairwayRuntime

/// Everything `fairway-management` reads from its environment.
public struct ManagementConfiguration: Sendable {
    public static let defaultPort = 8081
    /// Shorter admin tokens are refused: the token guards every tenant's keys and spend.
    public static let minimumAdminTokenLength = 16

    public var common: CommonSettings
    public var adminToken: String
    /// The relays' fair-share settings, so `GET /v1/fairshare` computes shares the way they do.
    public var fairshareMode: FairShareCalculator.Mode
    public var fairshareHalfLife: Double

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
        self.fairshareMode = try environment.oneOf("FAIRWAY_FAIRSHARE_MODE", default: FairShareCalculator.Mode.hierarchical)
        let halfLife = try environment.seconds("FAIRWAY_FAIRSHARE_HALF_LIFE", default: .seconds(300), in: 1...86_400 * 30)
        self.fairshareHalfLife = halfLife.seconds
    }
}
