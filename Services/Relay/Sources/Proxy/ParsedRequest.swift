/// A client's request body, checked just enough to route it (DESIGN §5 step 1). Everything else passes upstream as the
/// client wrote it.
public struct ParsedRequest: Sendable {
    public var endpoint: RelayEndpoint
    public var body: JSONObject
    public var model: String
    public var stream: Bool
    /// Whether the client itself asked for `stream_options.include_usage`.
    public var clientWantsUsage: Bool
    /// Prompt characters / 4 + `max_tokens` (or the default): the admission and quota estimate.
    public var estimatedTokens: Int64

    public init(endpoint: RelayEndpoint, bytes: [UInt8], defaultMaxTokens: Int) throws(RelayError) {
        self.endpoint = endpoint
        let parsed: JSON
        do {
            parsed = try JSONParser.parse(bytes)
        } catch {
            throw .invalidRequest("The request body is not valid JSON (\(error)).", code: "invalid_json")
        }
        guard let body = parsed.object else { throw .invalidRequest("The request body must be a JSON object.", code: "invalid_json") }
        guard let modelValue = body["model"] else { throw .invalidRequest("You must provide a model parameter.", param: "model") }
        guard let model = modelValue.string, !model.isEmpty else {
            throw .invalidRequest("'model' must be a non-empty string.", param: "model")
        }
        let field = endpoint.requiredField
        switch (endpoint, body[field]) {
        case (_, nil), (_, .null?):
            throw .invalidRequest("Missing required parameter: '\(field)'.", param: field)
        case (.chatCompletions, .array(let messages)?):
            guard !messages.isEmpty else { throw .invalidRequest("'messages' must contain at least one message.", param: "messages") }
            for (position, message) in messages.enumerated() where message.object == nil || message["role"]?.string == nil {
                throw .invalidRequest("messages[\(position)] must be an object with a 'role'.", param: "messages[\(position)]")
            }
        case (.chatCompletions, _):
            throw .invalidRequest("'messages' must be an array.", param: "messages")
        default:
            break
        }
        let stream: Bool
        switch body["stream"] {
        case nil, .null?: stream = false
        case .bool(let value)?: stream = value
        default: throw .invalidRequest("'stream' must be a boolean.", param: "stream")
        }
        if stream && !endpoint.supportsStreaming {
            throw .invalidRequest("\(endpoint.rawValue) does not support streaming.", param: "stream")
        }
        self.body = body
        self.model = model
        self.stream = stream
        self.clientWantsUsage = body["stream_options"]?["include_usage"]?.bool ?? false
        let maxTokens = body["max_completion_tokens"]?.int ?? body["max_tokens"]?.int ?? (endpoint == .embeddings ? 0 : defaultMaxTokens)
        self.estimatedTokens = Int64(Self.characters(in: body[field]) / 4 + max(0, maxTokens))
    }

    static func characters(in value: JSON?) -> Int {
        switch value {
        case .string(let text)?: text.utf8.count
        case .array(let elements)?: elements.reduce(0) { $0 + characters(in: $1) }
        case .object(let object)?: characters(in: object["content"]) + characters(in: object["text"])
        default: 0
        }
    }
}
