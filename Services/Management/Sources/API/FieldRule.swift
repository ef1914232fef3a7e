import Foundation

/// A value ready to be bound into SQL, with the cast Postgres needs for it.
enum SQLValue: Sendable, Equatable {
    case null
    case text(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    /// Exact decimal text, bound as text and cast to `numeric` so money never passes through a float.
    case decimal(String)
    case uuid(UUID)
    case timestamp(Date)
    /// Bound as `text[]`.
    case textArray([String])
    /// Bound as `uuid[]`.
    case uuidArray([UUID])
}

/// One writable field of a resource: its JSON name (= column name), what it accepts, and when.
///
/// Validation is pure so it is unit-tested without a database; every failure names the field.
struct FieldRule: Sendable {
    enum Kind: Sendable {
        /// Identifier-like names: letters, digits and `extra` characters, starting with a letter or digit.
        case name(maxLength: Int, extra: String)
        /// Free text, no control characters.
        case text(maxLength: Int)
        case integer(ClosedRange<Int64>)
        /// A positive or non-negative decimal (`minimumExclusive`: must be > 0), at most `maximum` when given.
        case decimal(minimumExclusive: Bool, maximum: Int64? = nil)
        /// A list of distinct values of one kind (names or UUIDs), in the order given.
        indirect case list(maxCount: Int, of: Kind)
        case double(minimumExclusive: Double)
        case bool
        /// An absolute `http`/`https` URL.
        case url
        case enumeration([String])
        case uuid
        case timestamp
    }

    let name: String
    let kind: Kind
    var nullable = false
    var requiredOnCreate = false
    var updatable = true
    /// Write-only: never returned; responses show `has_<name>` instead.
    var secret = false

    func validate(_ value: JSONValue) throws(APIError) -> SQLValue {
        if value == .null {
            guard nullable else { throw .validation(name, "\(name) must not be null") }
            return .null
        }
        switch kind {
        case .name(let maxLength, let extra):
            let text = try string(value)
            guard !text.isEmpty, text.count <= maxLength else {
                throw .validation(name, "\(name) must be 1 to \(maxLength) characters")
            }
            let allowedExtra = Set(extra.unicodeScalars)
            for (index, scalar) in text.unicodeScalars.enumerated() {
                let alphanumeric = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))
                guard alphanumeric || (index > 0 && allowedExtra.contains(scalar)) else {
                    throw .validation(
                        name,
                        "\(name) may contain only letters, digits and '\(extra)', starting with a letter or digit"
                    )
                }
            }
            return .text(text)
        case .text(let maxLength):
            let text = try string(value)
            guard text.count <= maxLength else { throw .validation(name, "\(name) must be at most \(maxLength) characters") }
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .validation(name, "\(name) must not contain control characters")
            }
            return .text(text)
        case .integer(let range):
            guard case .integer(let number) = value else { throw .validation(name, "\(name) must be a whole number") }
            guard range.contains(number) else {
                throw .validation(name, "\(name) must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return .integer(number)
        case .decimal(let minimumExclusive, let maximum):
            let text: String
            switch value {
            case .integer(let number): text = String(number)
            case .number(let number): text = number
            case .string(let string): text = string
            default: throw .validation(name, "\(name) must be a number or a decimal string")
            }
            guard let parsed = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")),
                  text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+" })
            else {
                throw .validation(name, "\(name) must be a decimal number")
            }
            guard minimumExclusive ? parsed > 0 : parsed >= 0 else {
                throw .validation(name, minimumExclusive ? "\(name) must be greater than 0" : "\(name) must not be negative")
            }
            if let maximum, parsed > Decimal(maximum) {
                throw .validation(name, "\(name) must be at most \(maximum)")
            }
            guard Self.hasAtMostTwelveDecimals(parsed) else {
                throw .validation(name, "\(name) must have at most 12 decimal places")
            }
            return .decimal(text)
        case .list(let maxCount, let itemKind):
            guard case .array(let items) = value else { throw .validation(name, "\(name) must be an array") }
            guard items.count <= maxCount else { throw .validation(name, "\(name) may list at most \(maxCount) values") }
            let rule = FieldRule(name: name, kind: itemKind)
            var texts: [String] = []
            var ids: [UUID] = []
            for item in items {
                switch try rule.validate(item) {
                case .text(let text): if !texts.contains(text) { texts.append(text) }
                case .uuid(let id): if !ids.contains(id) { ids.append(id) }
                default: throw .validation(name, "\(name) holds values of an unsupported kind")
                }
            }
            if case .uuid = itemKind { return .uuidArray(ids) }
            return .textArray(texts)
        case .double(let minimum):
            let number: Double
            switch value {
            case .integer(let integer): number = Double(integer)
            case .number(let text):
                guard let double = Double(text) else { throw .validation(name, "\(name) must be a number") }
                number = double
            default: throw .validation(name, "\(name) must be a number")
            }
            guard number.isFinite, number > minimum else {
                throw .validation(name, "\(name) must be greater than \(minimum)")
            }
            return .double(number)
        case .bool:
            guard case .bool(let flag) = value else { throw .validation(name, "\(name) must be true or false") }
            return .bool(flag)
        case .url:
            let text = try string(value)
            guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
            else {
                throw .validation(name, "\(name) must be an absolute http:// or https:// URL")
            }
            // Credentials in a URL end up in logs and the dashboard; the relay refuses to send to one.
            guard url.user == nil, url.password == nil else {
                throw .validation(name, "\(name) must not contain credentials (keys and tokens have fields of their own)")
            }
            return .text(text)
        case .enumeration(let allowed):
            let text = try string(value)
            guard allowed.contains(text) else {
                throw .validation(name, "\(name) must be one of: \(allowed.joined(separator: ", "))")
            }
            return .text(text)
        case .uuid:
            guard let id = UUID(uuidString: try string(value)) else { throw .validation(name, "\(name) must be a UUID") }
            return .uuid(id)
        case .timestamp:
            guard let date = Self.parseTimestamp(try string(value)) else {
                throw .validation(name, "\(name) must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z")
            }
            return .timestamp(date)
        }
    }

    private func string(_ value: JSONValue) throws(APIError) -> String {
        guard case .string(let text) = value else { throw .validation(name, "\(name) must be a string") }
        return text
    }

    /// Money columns are `numeric(24, 12)`: a finer amount would be rounded silently by Postgres.
    static func hasAtMostTwelveDecimals(_ value: Decimal) -> Bool {
        var scaled = value * Decimal(sign: .plus, exponent: 12, significand: 1)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return rounded == scaled
    }

    static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}

extension Array where Element == FieldRule {
    /// Validates a create (`isCreate`) or patch body against these rules; returns the columns to write, in rule order.
    func validate(_ body: JSONRequestBody, isCreate: Bool) throws(APIError) -> [(column: String, value: SQLValue)] {
        let allowed = Set(filter { isCreate || $0.updatable }.map(\.name))
        try body.rejectUnknown(allowed: allowed)
        var columns: [(column: String, value: SQLValue)] = []
        for rule in self {
            guard let value = body.fields[rule.name] else {
                if isCreate && rule.requiredOnCreate { throw .validation(rule.name, "\(rule.name) is required") }
                continue
            }
            guard isCreate || rule.updatable else { continue }
            columns.append((rule.name, try rule.validate(value)))
        }
        if !isCreate && columns.isEmpty {
            throw APIError(.validation, "nothing to update; send at least one of: \(allowed.sorted().joined(separator: ", "))")
        }
        return columns
    }
}
