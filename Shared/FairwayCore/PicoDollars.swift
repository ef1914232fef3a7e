import Foundation

/// Money as an exact count of 10⁻¹² US dollars, the precision of the `numeric(24,12)` cost columns.
///
/// Integer arithmetic keeps sums exact and cheap on the hot path (Foundation's `Decimal` formatting and parsing were a
/// measurable share of ingest time); text is a plain decimal such as `0.000125`.
public enum PicoDollars {
    public static let perDollar: Int64 = 1_000_000_000_000

    /// Plain decimal text with no trailing zeros (`0.5`, `12`, `0.000000000001`).
    public static func format(_ value: Int64) -> String {
        let negative = value < 0
        let magnitude = value.magnitude
        let whole = magnitude / UInt64(perDollar)
        var fraction = magnitude % UInt64(perDollar)
        var text = (negative ? "-" : "") + String(whole)
        guard fraction > 0 else { return text }
        var digits = 12
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        return text
    }

    /// Parses a non-negative plain decimal with at most 12 fractional digits; nil otherwise.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        var seenDigit = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            seenDigit = true
            let digit = Int64(byte - UInt8(ascii: "0"))
            if seenPoint {
                fractionDigits += 1
                guard fractionDigits <= 12 else { return nil }
                fraction = fraction * 10 + digit
            } else {
                let (multiplied, overflow) = whole.multipliedReportingOverflow(by: 10)
                guard !overflow, multiplied <= Int64.max / perDollar else { return nil }
                whole = multiplied + digit
            }
        }
        guard seenDigit, whole <= Int64.max / perDollar else { return nil }
        var scale: Int64 = 1
        for _ in fractionDigits..<12 { scale *= 10 }
        return whole * perDollar + fraction * scale
    }

    public static func decimal(_ value: Int64) -> Decimal {
        Decimal(value) / Decimal(perDollar)
    }
}
