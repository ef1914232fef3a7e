import FairwayCore
import Logging

/// Process-wide logging set-up, done once before any logger is made.
public enum ProcessLogging {
    public static func bootstrap(_ settings: LoggingSettings) {
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: settings.format)
            handler.logLevel = settings.level
            return handler
        }
    }

    /// A logger for `label` at the configured level (for use before or without bootstrap, as in tests).
    public static func logger(_ label: String, settings: LoggingSettings) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = settings.level
        return logger
    }
}
