/// Arithmetic that stops at the type's bounds instead of trapping: for sums of counts that come, however indirectly,
/// from clients or upstreams, where a trap would take the whole process down.
extension FixedWidthInteger {
    public func saturatingAdding(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }

    public func saturatingMultiplied(by other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }

    public func saturatingSubtracting(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other > 0 ? .min : .max
    }

    public mutating func saturatingAdd(_ other: Self) {
        self = saturatingAdding(other)
    }
}
