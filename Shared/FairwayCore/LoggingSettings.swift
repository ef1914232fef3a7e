import Logging

/// `FAIRWAY_LOG_FORMAT` and `FAIRWAY_LOG_LEVEL`, shared by every service.
public struct LoggingSettings: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case text
        case json
    }

    public var format: Format
    public var level: Logger.Level

    public init(format: Format = .text, level: Logger.Level = .info) {
        self.format = format
        self.level = level
    }

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.format = try environment.oneOf("FAIRWAY_LOG_FORMAT", default: Format.text)
        self.level = try environment.oneOf("FAIRWAY_LOG_LEVEL", default: Logger.Level.info)
    }
}
