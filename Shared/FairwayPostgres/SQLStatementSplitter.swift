/// Splits a SQL script into statements at top-level semicolons.
///
/// Postgres' extended query protocol (what PostgresNIO speaks) takes one statement at a time, while migration files
/// hold many. The splitter is a small state machine over the text that knows where a semicolon does not end a
/// statement: inside quoted strings (`'…'`, `E'…'` with backslash escapes), quoted identifiers (`"…"`), comments
/// (`--…`, nested `/* … */`) and dollar-quoted bodies (`$$…$$`, `$tag$…$tag$`) such as function definitions.
public struct SQLStatementSplitter: Sendable {
    private enum State {
        case code
        case singleQuoted(backslashEscapes: Bool)
        case doubleQuoted
        case lineComment
        case blockComment(depth: Int)
        case dollarQuoted(tag: [UInt8])
    }

    public init() {}

    /// The statements of `script`, trimmed, without their terminating semicolons; comment-only pieces are dropped.
    public func statements(in script: String) -> [String] {
        let bytes = Array(script.utf8)
        var statements: [String] = []
        var state = State.code
        var start = 0
        var hasCode = false
        var index = 0

        func flush(upTo end: Int) {
            if hasCode {
                let text = String(decoding: bytes[start..<end], as: UTF8.self)
                statements.append(text.trimmingWhitespace())
            }
            hasCode = false
        }

        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            switch state {
            case .code:
                switch byte {
                case UInt8(ascii: ";"):
                    flush(upTo: index)
                    start = index + 1
                case UInt8(ascii: "'"):
                    let previous: UInt8? = index > 0 ? bytes[index - 1] : nil
                    let escaped = previous == UInt8(ascii: "E") || previous == UInt8(ascii: "e")
                    state = .singleQuoted(backslashEscapes: escaped)
                    hasCode = true
                case UInt8(ascii: "\""):
                    state = .doubleQuoted
                    hasCode = true
                case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
                    state = .lineComment
                    index += 1
                case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                    state = .blockComment(depth: 1)
                    index += 1
                case UInt8(ascii: "$"):
                    hasCode = true
                    if let tag = Self.dollarTag(in: bytes, at: index) {
                        state = .dollarQuoted(tag: tag)
                        index += tag.count - 1
                    }
                default:
                    if !Self.isWhitespace(byte) { hasCode = true }
                }
            case .singleQuoted(let backslashEscapes):
                if backslashEscapes && byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "'") {
                    if next == UInt8(ascii: "'") {
                        index += 1
                    } else {
                        state = .code
                    }
                }
            case .doubleQuoted:
                if byte == UInt8(ascii: "\"") {
                    if next == UInt8(ascii: "\"") { index += 1 } else { state = .code }
                }
            case .lineComment:
                if byte == UInt8(ascii: "\n") { state = .code }
            case .blockComment(let depth):
                if byte == UInt8(ascii: "*") && next == UInt8(ascii: "/") {
                    state = depth == 1 ? .code : .blockComment(depth: depth - 1)
                    index += 1
                } else if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                    state = .blockComment(depth: depth + 1)
                    index += 1
                }
            case .dollarQuoted(let tag):
                if byte == UInt8(ascii: "$"), index + tag.count <= bytes.count,
                   bytes[index..<(index + tag.count)].elementsEqual(tag) {
                    state = .code
                    index += tag.count - 1
                }
            }
            index += 1
        }
        flush(upTo: bytes.count)
        return statements
    }

    /// The opening `$tag$` at `index`, or nil when the `$` is something else (a parameter like `$1`).
    private static func dollarTag(in bytes: [UInt8], at index: Int) -> [UInt8]? {
        var end = index + 1
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "$") {
                return Array(bytes[index...end])
            }
            let isLetter = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_") || byte >= 0x80
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard isLetter || (isDigit && end > index + 1) else { return nil }
            end += 1
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
