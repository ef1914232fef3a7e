extension JSON {
    /// What a JSON number means as a whole number, whatever its spelling (`12`, `1.2e1`, `-0`, `1e400`).
    public enum WholeNumber: Sendable, Equatable {
        case exact(Int64)
        /// A whole number beyond `Int64`, with its sign.
        case tooLarge(negative: Bool)
        /// Not a whole number (a fraction), or not a number at all.
        case notWhole
    }

    /// The value as a whole number; never traps, whatever the client wrote.
    public var wholeNumber: WholeNumber {
        guard case .number(let text) = self else { return .notWhole }
        if let exact = Int64(text) { return .exact(exact) }
        guard let value = Double(text) else { return .notWhole }
        if value.isInfinite { return .tooLarge(negative: value < 0) }
        guard value.rounded(.towardZero) == value else {
            return .notWhole
        }
        if let exact = Int64(exactly: value) { return .exact(exact) }
        if value.magnitude >= 9.2e18 { return .tooLarge(negative: value < 0) }
        return .notWhole
    }

    /// The value clamped into `range`: for counts an upstream reports, where a wrong number must not trap or poison the
    /// bill, only be bounded. Anything that is not a whole number counts as the range's lower bound.
    public func clamped(to range: ClosedRange<Int64>) -> Int64 {
        switch wholeNumber {
        case .exact(let value): min(max(value, range.lowerBound), range.upperBound)
        case .tooLarge(let negative): negative ? range.lowerBound : range.upperBound
        case .notWhole: range.lowerBound
        }
    }
}
