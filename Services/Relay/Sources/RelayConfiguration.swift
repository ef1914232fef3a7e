import FairwayCore
import FairwayRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything `fairway-relay` reads from its environment.
public struct RelayConfiguration: Sendable {
    public static let defaultPort = 8080

    public var common: CommonSettings
    /// Name in logs and request-log events; defaults to hostname + pid so replicas are told apart.
    public var relayID: String

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.common = try CommonSettings(environment: environment, defaultPort: Self.defaultPort)
        self.relayID = environment.string("FAIRWAY_RELAY_ID") ?? Self.defaultRelayID()
    }

    static func defaultRelayID() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : "relay"
        return "\(host)-\(getpid())"
    }
}
