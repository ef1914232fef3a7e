/// A configuration problem found at start-up. It always names the variable so an operator can fix it without reading code.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The environment variable (or setting) at fault.
    public var variable: String
    /// What is wrong with it.
    public var reason: String

    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    public var description: String { "\(variable): \(reason)" }
}
