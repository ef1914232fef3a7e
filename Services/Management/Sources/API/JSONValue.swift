import FairwayJSON

/// A JSON value as the client sent it, keeping `true` apart from `1`, absent apart from `null`, and every number as the
/// text the client wrote — so a cost such as `0.000001234567891` is stored exactly, never rounded through a float.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// Any other number, as written (a fraction, an exponent, or a whole number beyond `Int64`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let text): self = Int64(text).map(JSONValue.integer) ?? .number(text)
        case .string(let value): self = .string(value)
        case .array(let elements): self = .array(elements.map(JSONValue.init))
        case .object(let object):
            var fields: [String: JSONValue] = [:]
            for (key, value) in object { fields[key] = JSONValue(value) }
            self = .object(fields)
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
