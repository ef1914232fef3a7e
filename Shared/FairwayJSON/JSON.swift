/// A JSON value that keeps numbers as the text the client wrote.
///
/// The relay forwards request bodies upstream unchanged except for a field or two; decoding numbers into `Double` and
/// back would turn `0.7` into `0.69999…` or round large integers, so a number stays its original text.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var object: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var array: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var int: Int? {
        if case .number(let text) = self { return Int(text) ?? Double(text).flatMap { $0.rounded() == $0 ? Int(exactly: $0) : nil } }
        return nil
    }

    public var isNull: Bool { self == .null }

    public subscript(key: String) -> JSON? {
        object?[key]
    }

    public static func integer(_ value: Int) -> JSON { .number(String(value)) }
}

/// A JSON object that keeps its members in the order they were written, so a forwarded body reads like the original.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(key: String, value: JSON)]

    public init(_ members: [(key: String, value: JSON)] = []) {
        self.members = members
    }

    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.members = elements.map { ($0.0, $0.1) }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public subscript(key: String) -> JSON? {
        get { members.last { $0.key == key }?.value }
        set {
            if let newValue {
                if let index = members.lastIndex(where: { $0.key == key }) {
                    members[index].value = newValue
                } else {
                    members.append((key, newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    public var keys: [String] { members.map(\.key) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> {
        members.makeIterator()
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements.map { ($0.0, $0.1) })) }
    public init(nilLiteral: ()) { self = .null }
}

/// JSON text as a client sent it, with one top-level member's value replaced in place: everything else — whitespace,
/// escapes, number spelling, member order — stays byte for byte (so an upstream's prompt cache sees the same bytes).
public struct SplicedJSON: Sendable {
    public var bytes: [UInt8]
    public var ranges: [(key: String, range: Range<Int>)]

    public init(bytes: [UInt8], ranges: [(key: String, range: Range<Int>)]) {
        self.bytes = bytes
        self.ranges = ranges
    }

    /// The text with the value of `key` (its last occurrence, as the parser reads duplicates) replaced by `value`;
    /// nil when the member is not there.
    public func replacing(_ key: String, with value: JSON) -> [UInt8]? {
        guard let range = ranges.last(where: { $0.key == key })?.range else { return nil }
        return Array(bytes[..<range.lowerBound]) + value.bytes + Array(bytes[range.upperBound...])
    }
}
