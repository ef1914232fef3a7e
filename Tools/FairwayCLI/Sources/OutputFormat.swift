import FairwayJSON
import Foundation

/// How results are printed: aligned columns for people, JSON or CSV for scripts.
enum OutputFormat: String, CaseIterable, Sendable {
    case table
    case json
    case csv

    /// Table on a terminal, JSON when piped.
    static var automatic: OutputFormat { isatty(STDOUT_FILENO) == 1 ? .table : .json }
}

/// Renders rows of JSON objects. Pure, so each format is tested without a server.
enum OutputRenderer {
    /// Columns first by a preferred order, then as they first appear.
    static let leading = ["id", "name", "model_name", "owner_type", "tenant_id", "key_prefix"]

    static func render(_ rows: [JSON], as format: OutputFormat) -> String {
        switch format {
        case .json: return JSON.array(rows).text + "\n"
        case .csv: return csv(rows)
        case .table: return table(rows)
        }
    }

    /// A single object: JSON as is; a table or CSV of one row.
    static func render(object: JSON, as format: OutputFormat) -> String {
        format == .json ? object.text + "\n" : render([object], as: format)
    }

    static func columns(_ rows: [JSON]) -> [String] {
        var seen: [String] = []
        for row in rows {
            for key in row.object?.keys ?? [] where !seen.contains(key) { seen.append(key) }
        }
        let first = leading.filter(seen.contains)
        return first + seen.filter { !first.contains($0) }
    }

    static func csv(_ rows: [JSON]) -> String {
        let columns = columns(rows)
        var lines = [columns.map(csvField).joined(separator: ",")]
        for row in rows {
            lines.append(columns.map { csvField(cell(row[$0], column: $0, money: false)) }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180 quoting; a cell a spreadsheet would run as a formula is prefixed with `'`.
    static func csvField(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func table(_ rows: [JSON]) -> String {
        guard !rows.isEmpty else { return "(none)\n" }
        let columns = columns(rows)
        let cells = rows.map { row in columns.map { cell(row[$0], column: $0, money: true) } }
        var widths = columns.map(\.count)
        for line in cells {
            for (index, text) in line.enumerated() { widths[index] = max(widths[index], text.count) }
        }
        func line(_ texts: [String]) -> String {
            zip(texts, widths).map { text, width in text.padding(toLength: width, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let header = line(columns.map { $0.uppercased() })
        return ([header] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    /// A value as a cell: text plain, null empty, nested JSON compact; in a table, dollar amounts with cents.
    static func cell(_ value: JSON?, column: String, money: Bool) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return money && isMoney(column) ? cents(text) : text
        case .number(let text)?: return money && isMoney(column) ? cents(text) : text
        case .bool(let flag)?: return flag ? "true" : "false"
        case let other?: return other.text
        }
    }

    static func isMoney(_ column: String) -> Bool {
        column.hasSuffix("_usd") || column == "spend_current_period"
    }

    /// `12.3456` → `$12.35` (half up, exact decimal arithmetic); other text unchanged.
    static func cents(_ text: String) -> String {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return text }
        var input = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, 2, .plain)
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.numberStyle = .decimal
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        formatter.usesGroupingSeparator = true
        formatter.groupingSeparator = ","
        return "$" + (formatter.string(from: rounded as NSDecimalNumber) ?? text)
    }
}
