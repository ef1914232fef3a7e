/// Parses UTF-8 JSON into ``JSON``, keeping number text; errors carry the byte offset so a client sees where its body
/// went wrong.
public struct JSONParser {
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private static let maximumDepth = 64
    /// Byte ranges of the top-level object's member values, in order (for splicing one member of a forwarded body).
    private var topLevelRanges: [(key: String, range: Range<Int>)] = []

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSON {
        try parseWithRanges(bytes).value
    }

    /// The value and, when it is an object, where each of its members' values lies in `bytes`.
    public static func parseWithRanges(_ bytes: [UInt8]) throws(SyntaxError) -> (value: JSON, ranges: [(key: String, range: Range<Int>)]) {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return (value, parser.topLevelRanges)
    }

    /// The value of the member `name` of the top-level object (the last one, as ``JSONObject`` reads a repeated
    /// name), or nil when there is none or the top-level value is not an object. Only that member becomes a ``JSON``:
    /// the rest of `bytes` is checked as ``parse(_:)`` checks it — except that strings are not decoded, so invalid
    /// UTF-8 inside them passes — and skipped. For reading one field (an answer's `usage`) of a body forwarded as it
    /// is.
    public static func member(_ name: String, of bytes: [UInt8]) throws(SyntaxError) -> JSON? {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let found: JSON?
        if parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") {
            found = try parser.skipContainer(closedBy: UInt8(ascii: "}"), members: true, capturing: Array(name.utf8))
        } else {
            try parser.skipValue()
            found = nil
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return found
    }

    public static func parse(_ text: String) throws(SyntaxError) -> JSON {
        try parse(Array(text.utf8))
    }

    private func error(_ reason: String) -> SyntaxError {
        SyntaxError(offset: index, reason: reason)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func value() throws(SyntaxError) -> JSON {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try object())
        case UInt8(ascii: "["): return .array(try array())
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw error("invalid literal") }
        index += count
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
    }

    private mutating func object() throws(SyntaxError) -> JSONObject {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [(key: String, value: JSON)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return JSONObject(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let start = index
            members.append((key, try value()))
            if depth == 1 { topLevelRanges.append((key, start..<index)) }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return JSONObject(members) }
            throw error("expected ',' or '}'")
        }
    }

    /// Whether the member name at `index` is `name`: compared on its raw bytes when it has no escape, else decoded.
    private mutating func memberName(is name: [UInt8]) throws(SyntaxError) -> Bool {
        let start = index + 1
        try skipString()
        let raw = bytes[start..<(index - 1)]
        guard raw.contains(UInt8(ascii: "\\")) else { return raw.elementsEqual(name) }
        index = start - 1
        return Array(try string().utf8) == name
    }

    /// Checks the value at `index` and steps over it without building it.
    private mutating func skipValue() throws(SyntaxError) {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try skipContainer(closedBy: UInt8(ascii: "}"), members: true)
        case UInt8(ascii: "["): try skipContainer(closedBy: UInt8(ascii: "]"), members: false)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw error("unexpected character")
        }
    }

    /// Checks the object or array at `index` and steps over it. In an object given `capturing`, the value of each
    /// member of that name is parsed (the last is returned, as ``JSONObject`` reads a repeated name); nested
    /// containers capture nothing.
    @discardableResult
    private mutating func skipContainer(closedBy close: UInt8, members: Bool, capturing name: [UInt8]? = nil) throws(SyntaxError) -> JSON? {
        try enter()
        defer { depth -= 1 }
        index += 1
        var found: JSON?
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            return nil
        }
        while true {
            skipWhitespace()
            var matches = false
            if members {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                if let name { matches = try memberName(is: name) } else { try skipString() }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                skipWhitespace()
            }
            if matches { found = try value() } else { try skipValue() }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == close { index += 1; return found }
            throw error(members ? "expected ',' or '}'" : "expected ',' or ']'")
        }
    }

    /// Steps over the string at `index`, checking its escapes (a surrogate's `\u` escape must be paired) and its
    /// control characters.
    private mutating func skipString() throws(SyntaxError) {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte < 0x20 { throw error("control character in string") }
            index += 1
            guard byte == UInt8(ascii: "\\") else { continue }
            guard index < bytes.count else { throw error("unexpected end of input") }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                UInt8(ascii: "r"), UInt8(ascii: "t"):
                continue
            case UInt8(ascii: "u"):
                _ = try unicodeEscape()
            default:
                throw error("invalid escape")
            }
        }
        throw error("unterminated string")
    }

    private mutating func array() throws(SyntaxError) -> [JSON] {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return elements }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func number() throws(SyntaxError) -> String {
        let start = index
        try skipNumber()
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Steps over the number at `index`, checking its grammar.
    private mutating func skipNumber() throws(SyntaxError) {
        func digits(_ parser: inout JSONParser) -> Int {
            let from = parser.index
            while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) {
                parser.index += 1
            }
            return parser.index - from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        guard digits(&self) > 0 else { throw error("invalid number") }
        if bytes[integerStart] == UInt8(ascii: "0") && index - integerStart > 1 { throw error("leading zero in number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
    }

    private mutating func string() throws(SyntaxError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(validating: bytes[start..<index], as: UTF8.self)
                guard let text else { throw error("invalid UTF-8 in string") }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: scalars, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of input") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = Unicode.Scalar(try unicodeEscape()) else { throw error("invalid escape") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    /// The code point of the `\u` escape whose hex digits start at `index`, a surrogate pair read as one.
    private mutating func unicodeEscape() throws(SyntaxError) -> UInt32 {
        let code = try hex4()
        if (0xDC00...0xDFFF).contains(code) { throw error("unpaired surrogate") }
        guard (0xD800...0xDBFF).contains(code) else { return code }
        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
            throw error("unpaired surrogate")
        }
        index += 2
        let low = try hex4()
        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate") }
        return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
