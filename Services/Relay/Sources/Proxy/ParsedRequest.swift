/// A client's request body, checked just enough to route and bill it safely (DESIGN §5 step 1). Everything else passes
/// upstream as the client wrote it.
public struct ParsedRequest: Sendable {
    public var endpoint: RelayEndpoint
    public var body: JSONObject
    public var model: String
    public var stream: Bool
    /// Whether the client itself asked for `stream_options.include_usage`.
    public var clientWantsUsage: Bool
    /// Prompt characters / 4: the prompt estimate, used when an upstream reports no usage.
    public var promptTokenEstimate: Int64
    /// The prompt estimate + `max_tokens` (or the default) × `n`: the admission and quota estimate.
    public var estimatedTokens: Int64
    /// The body as the client sent it, for passthrough to a provider that speaks the client's format.
    public var original: SplicedJSON?
    /// Client headers a same-format upstream must receive as sent (`anthropic-version`, `anthropic-beta`).
    public var forwardedHeaders: [(String, String)] = []

    /// - Throws: an OpenAI-shaped 400 naming the field at fault.
    public init(endpoint: RelayEndpoint, json: JSON, defaultMaxTokens: Int) throws(RelayError) {
        self.endpoint = endpoint
        guard let body = json.object else { throw .invalidRequest("The request body must be a JSON object.", code: "invalid_json") }
        guard body["model"] != nil else { throw .invalidRequest("You must provide a model parameter.", param: "model") }
        self.model = try RequestBounds.name(body["model"], field: "model")
        try Self.checkRequiredField(endpoint: endpoint, body: body)
        self.stream = try Self.streamFlag(body, endpoint: endpoint)
        self.body = body
        self.clientWantsUsage = body["stream_options"]?["include_usage"]?.bool ?? false
        let maxTokens = try RequestBounds.integer(body, "max_completion_tokens", in: RequestBounds.maxTokens)
        let legacyMaxTokens = try RequestBounds.integer(body, endpoint == .responses ? "max_output_tokens" : "max_tokens", in: RequestBounds.maxTokens)
        let choices = try RequestBounds.integer(body, "n", in: RequestBounds.choices) ?? 1
        _ = try RequestBounds.integer(body, "top_logprobs", in: RequestBounds.topLogprobs)
        if endpoint == .completions {
            _ = try RequestBounds.integer(body, "logprobs", in: RequestBounds.completionLogprobs)
            _ = try RequestBounds.integer(body, "best_of", in: RequestBounds.choices)
        }
        if endpoint == .messages && legacyMaxTokens == nil {
            throw .invalidRequest("max_tokens: Field required", param: "max_tokens")
        }
        let completion = maxTokens ?? legacyMaxTokens ?? (endpoint.generates && endpoint != .embeddings ? Int64(defaultMaxTokens) : 0)
        // Bounded: characters ≤ the body size limit (≤ 1 GiB), completion ≤ 10^8, choices ≤ 128.
        let characters = Self.characters(in: body[endpoint.requiredField]) + Self.characters(in: body["system"])
            + Self.characters(in: body["instructions"])
        self.promptTokenEstimate = Int64(characters / 4)
        self.estimatedTokens = promptTokenEstimate + (endpoint.generates ? completion * choices : 0)
    }

    public init(endpoint: RelayEndpoint, bytes: [UInt8], defaultMaxTokens: Int) throws(RelayError) {
        let parsed = try Self.json(bytes)
        try Self.rejectDuplicates(parsed.ranges)
        try self.init(endpoint: endpoint, json: parsed.value, defaultMaxTokens: defaultMaxTokens)
        self.original = SplicedJSON(bytes: bytes, ranges: parsed.ranges)
    }

    /// A top-level member given twice is refused: the relay reads the last `model`, but an upstream may read the first,
    /// which would route and bill one model while another answers.
    static func rejectDuplicates(_ ranges: [(key: String, range: Range<Int>)]) throws(RelayError) {
        var seen = Set<String>()
        for (key, _) in ranges where !seen.insert(key).inserted {
            let name = RequestBounds.loggableName(.string(key)) ?? "a member"
            throw .invalidRequest("The request body gives '\(name)' more than once.", param: RequestBounds.loggableName(.string(key)), code: "duplicate_member")
        }
    }

    /// The body as JSON and where its members lie; malformed text, invalid UTF-8 and nesting deeper than the parser
    /// allows are a 400.
    static func json(_ bytes: [UInt8]) throws(RelayError) -> (value: JSON, ranges: [(key: String, range: Range<Int>)]) {
        do {
            return try JSONParser.parseWithRanges(bytes)
        } catch {
            throw .invalidRequest("The request body is not valid JSON (\(error)).", code: "invalid_json")
        }
    }

    private static func checkRequiredField(endpoint: RelayEndpoint, body: JSONObject) throws(RelayError) {
        let field = endpoint.requiredField
        switch (endpoint, body[field]) {
        case (_, nil), (_, .null?):
            throw .invalidRequest("Missing required parameter: '\(field)'.", param: field)
        case (.chatCompletions, .array(let messages)?), (.messages, .array(let messages)?), (.countTokens, .array(let messages)?):
            guard !messages.isEmpty else { throw .invalidRequest("'messages' must contain at least one message.", param: "messages") }
            for (position, message) in messages.enumerated() where message.object == nil || message["role"]?.string == nil {
                throw .invalidRequest("messages[\(position)] must be an object with a 'role'.", param: "messages[\(position)]")
            }
        case (.chatCompletions, _), (.messages, _), (.countTokens, _):
            throw .invalidRequest("'messages' must be an array.", param: "messages")
        case (.responses, .string?), (.responses, .array?):
            break
        case (.responses, _):
            throw .invalidRequest("'input' must be a string or an array of input items.", param: "input")
        default:
            break
        }
    }

    private static func streamFlag(_ body: JSONObject, endpoint: RelayEndpoint) throws(RelayError) -> Bool {
        let stream: Bool
        switch body["stream"] {
        case nil, .null?: stream = false
        case .bool(let value)?: stream = value
        default: throw .invalidRequest("'stream' must be a boolean.", param: "stream")
        }
        if stream && !endpoint.supportsStreaming {
            throw .invalidRequest("\(endpoint.rawValue) does not support streaming.", param: "stream")
        }
        return stream
    }

    /// The client's own bytes with the upstream's model name spliced in (re-serialised only if they were not kept).
    func passthroughBody(model: String) -> [UInt8] {
        let name = JSON.string(model)
        if let spliced = original?.replacing("model", with: name) { return spliced }
        var body = self.body
        body["model"] = name
        return JSON.object(body).bytes
    }

    /// Content negotiation for a request passed through in the client's format.
    var passthroughHeaders: [(String, String)] {
        [("content-type", "application/json"), ("accept", stream ? "text/event-stream" : "application/json")]
    }

    static func characters(in value: JSON?) -> Int {
        switch value {
        case .string(let text)?: text.utf8.count
        case .array(let elements)?: elements.reduce(0) { $0 + characters(in: $1) }
        case .object(let object)?:
            characters(in: object["content"]) + characters(in: object["text"]) + characters(in: object["output"])
        default: 0
        }
    }
}
