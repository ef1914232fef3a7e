/// What a client may send (issue: hostile input). Every number the relay computes with is read through here into a
/// bounded range, and every client string that reaches an event, a metric label or a database row is checked here
/// first; a violation is an OpenAI-shaped 400 naming the field.
enum RequestBounds {
    /// Longest model name (bytes), as the `models.model_name` column allows.
    static let nameBytes = 256
    /// `max_tokens` / `max_completion_tokens`: above any model's window, small enough that estimates cannot overflow.
    static let maxTokens: ClosedRange<Int64> = 0...100_000_000
    /// `n`: completions per request.
    static let choices: ClosedRange<Int64> = 1...128
    /// `top_logprobs`, as OpenAI allows it.
    static let topLogprobs: ClosedRange<Int64> = 0...20
    /// `logprobs` of the legacy completions endpoint.
    static let completionLogprobs: ClosedRange<Int64> = 0...5

    /// A name fit for an event and a label: 1…256 bytes, no control characters.
    static func name(_ value: JSON?, field: String) throws(RelayError) -> String {
        guard let text = value?.string, !text.isEmpty else {
            throw .invalidRequest("'\(field)' must be a non-empty string.", param: field)
        }
        guard text.utf8.count <= nameBytes else {
            throw .invalidRequest("'\(field)' must be at most \(nameBytes) bytes long.", param: field)
        }
        guard !text.unicodeScalars.contains(where: isControl) else {
            throw .invalidRequest("'\(field)' must not contain control characters.", param: field)
        }
        return text
    }

    /// The name when it would pass ``name(_:field:)``, else nil (for logging a request refused for another reason).
    static func loggableName(_ value: JSON?) -> String? {
        try? name(value, field: "model")
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// An optional whole-number field: absent or null → nil; anything else must be a whole number within `range`.
    static func integer(_ body: JSONObject, _ field: String, in range: ClosedRange<Int64>) throws(RelayError) -> Int64? {
        guard let value = body[field], !value.isNull else { return nil }
        guard case .exact(let number) = value.wholeNumber, range.contains(number) else {
            throw .invalidRequest(
                "'\(field)' must be a whole number from \(range.lowerBound) to \(range.upperBound).", param: field, code: "invalid_value"
            )
        }
        return number
    }
}
