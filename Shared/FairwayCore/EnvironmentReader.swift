#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Typed, validated access to environment variables.
///
/// Every service reads all of its settings through one reader at start-up, so a bad value stops the process with an
/// error naming the variable instead of surfacing later as odd behaviour.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The process environment.
    public static func process() -> EnvironmentReader {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let pair = String(cString: entry)
            if let separator = pair.firstIndex(of: "=") {
                values[String(pair[..<separator])] = String(pair[pair.index(after: separator)...])
            }
            pointer += 1
        }
        return EnvironmentReader(values)
    }

    /// The value, or nil when unset or empty.
    public func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    public func string(_ name: String, default defaultValue: String) -> String {
        string(name) ?? defaultValue
    }

    public func require(_ name: String) throws(ConfigurationError) -> String {
        guard let value = string(name) else {
            throw ConfigurationError(variable: name, reason: "required but not set")
        }
        return value
    }

    public func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = string(name) else { return defaultValue }
        guard let value = Int(raw) else {
            throw ConfigurationError(variable: name, reason: "'\(raw)' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(variable: name, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A duration given in seconds, fractions allowed (`FAIRWAY_QUEUE_TIMEOUT=2.5`).
    public func seconds(_ name: String, default defaultValue: Duration, in range: ClosedRange<Double>) throws(ConfigurationError) -> Duration {
        guard let raw = string(name) else { return defaultValue }
        guard let value = Double(raw), value.isFinite else {
            throw ConfigurationError(variable: name, reason: "'\(raw)' is not a number of seconds")
        }
        guard range.contains(value) else {
            throw ConfigurationError(variable: name, reason: "\(raw) s is outside \(range.lowerBound)...\(range.upperBound) s")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    public func bool(_ name: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let raw = string(name) else { return defaultValue }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: name, reason: "'\(raw)' is not a boolean (true/false)")
        }
    }

    public func oneOf<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        guard let raw = string(name) else { return defaultValue }
        guard let value = T(rawValue: raw.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: name, reason: "'\(raw)' is not one of: \(allowed)")
        }
        return value
    }
}
