import FairwayCore

/// Any OpenAI-compatible server (OpenAI, vLLM, Ollama, Together, …): bodies pass through with `model` replaced and,
/// when streaming, usage requested so every streamed request can be billed.
public struct OpenAIProvider: UpstreamProvider {
    public init() {}

    public func supports(_ endpoint: RelayEndpoint) -> Bool { true }

    public func makeRequest(_ request: ParsedRequest, deployment: Deployment) throws(RelayError) -> UpstreamRequest {
        let stream = request.stream
        let endpoint = request.endpoint
        if endpoint == .responses && deployment.supportsResponsesAPI { return passthrough(request, deployment: deployment) }
        let bytes: [UInt8]
        switch endpoint {
        case .responses:
            bytes = JSON.object(try ResponsesToChat.body(from: request.body, upstreamModel: deployment.upstreamModel, stream: stream)).bytes
        case .messages:
            bytes = JSON.object(try MessagesToChat.body(from: request.body, upstreamModel: deployment.upstreamModel, stream: stream)).bytes
        default:
            bytes = Self.sameFormatBody(request, model: deployment.upstreamModel)
        }
        var headers = request.passthroughHeaders
        if let key = deployment.apiKey, !key.isEmpty { headers.append(("authorization", "Bearer \(key)")) }
        let path = endpoint == .responses ? "/chat/completions" : endpoint.openAIPath
        return UpstreamRequest(url: deployment.url(path), headers: headers, body: bytes)
    }

    /// An OpenAI request for an OpenAI-compatible server: the client's bytes with `model` spliced in and, for a stream,
    /// `stream_options.include_usage` added when the client did not ask for it (so every stream can be billed). Only
    /// when the client sent `stream_options` without `include_usage: true` is the body written anew.
    static func sameFormatBody(_ request: ParsedRequest, model: String) -> [UInt8] {
        let options = request.body["stream_options"]
        if !request.stream || options?["include_usage"] == .bool(true) { return request.passthroughBody(model: model) }
        if options == nil, var spliced = request.original?.replacing("model", with: .string(model)),
           let close = spliced.lastIndex(of: UInt8(ascii: "}")) {
            spliced.insert(contentsOf: Array(#","stream_options":{"include_usage":true}"#.utf8), at: close)
            return spliced
        }
        var body = request.body
        body["model"] = .string(model)
        var merged = options?.object ?? JSONObject()
        merged["include_usage"] = true
        body["stream_options"] = .object(merged)
        return JSON.object(body).bytes
    }

    /// A Responses request to a server that serves `/responses`: the client's bytes with `model` spliced in.
    func passthrough(_ request: ParsedRequest, deployment: Deployment) -> UpstreamRequest {
        var headers = request.passthroughHeaders
        if let key = deployment.apiKey, !key.isEmpty { headers.append(("authorization", "Bearer \(key)")) }
        return UpstreamRequest(url: deployment.url("/responses"), headers: headers, body: request.passthroughBody(model: deployment.upstreamModel))
    }

    /// OpenAI-compatible servers have no token-counting endpoint: a Messages client gets the relay's estimate.
    public func localAnswer(_ request: ParsedRequest) -> [UInt8]? {
        guard request.endpoint == .countTokens else { return nil }
        return JSON.object(["input_tokens": .number(String(max(1, request.promptTokenEstimate)))]).bytes
    }

    public func translateResponse(endpoint: RelayEndpoint, deployment: Deployment, body: [UInt8]) throws(RelayError) -> (body: [UInt8], usage: TokenUsage) {
        if endpoint == .messages { return try ChatToMessages.message(from: body) }
        if endpoint == .responses && deployment.supportsResponsesAPI {
            return (body, ChatToResponses.usage(try? JSONParser.member("usage", of: body)))
        }
        if endpoint == .responses { return try ChatToResponses.response(from: body, model: deployment.modelName) }
        // The answer goes to the client as it came: only its usage is read.
        let usage = (try? JSONParser.member("usage", of: body)).flatMap { TokenUsage(openAI: $0) } ?? .zero
        return (body, usage)
    }

    public func translateError(endpoint: RelayEndpoint, deployment: Deployment, status: Int, body: [UInt8]) -> [UInt8] {
        if endpoint.format == .anthropic { return ChatToMessages.error(status: status, body: body) }
        if let parsed = try? JSONParser.parse(body), parsed["error"]?.object != nil { return body }
        let text = String(decoding: body.prefix(500), as: UTF8.self)
        return RelayError(status: .init(code: status), type: "upstream_error", message: "Upstream answered \(status): \(text)").json.bytes
    }

    public func makeStreamTranslator(endpoint: RelayEndpoint, deployment: Deployment, clientWantsUsage: Bool) -> any StreamTranslator {
        switch endpoint {
        case .messages: ChatToMessagesStream()
        case .responses where deployment.supportsResponsesAPI: ResponsesPassthroughStream()
        case .responses: ChatToResponsesStream(model: deployment.modelName)
        default: Translator(clientWantsUsage: clientWantsUsage)
        }
    }

    /// Passes chunks through; reads usage from the chunk that carries it and drops that chunk when the client did not
    /// ask for usage itself (the relay asked on its behalf).
    struct Translator: StreamTranslator {
        let clientWantsUsage: Bool
        var usage = TokenUsage.zero
        var isComplete = false
        var streamedCharacters = 0

        mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent] {
            if event.data == "[DONE]" {
                isComplete = true
                return [SSEEvent(data: "[DONE]")]
            }
            guard let chunk = try? JSONParser.parse(event.data) else { return [SSEEvent(data: event.data)] }
            streamedCharacters.saturatingAdd(Self.generatedCharacters(in: chunk))
            guard chunk["usage"] != nil || chunk["error"] != nil else { return [SSEEvent(data: event.data)] }
            if chunk["error"] != nil {
                throw RelayError(status: .badGateway, type: "upstream_error", message: chunk["error"]?["message"]?.string ?? "upstream stream error")
            }
            if let reported = TokenUsage(openAI: chunk["usage"]) { usage = reported }
            let choices = chunk["choices"]?.array ?? []
            if !clientWantsUsage && choices.isEmpty { return [] }
            return [SSEEvent(data: event.data)]
        }

        /// Text and tool-call arguments in one chunk: `choices[].delta.content`, `choices[].text` (completions),
        /// `choices[].delta.tool_calls[].function.arguments`.
        static func generatedCharacters(in chunk: JSON) -> Int {
            var count = 0
            for choice in chunk["choices"]?.array ?? [] {
                count += choice["text"]?.string?.utf8.count ?? 0
                let delta = choice["delta"]
                count += delta?["content"]?.string?.utf8.count ?? 0
                count += delta?["reasoning_content"]?.string?.utf8.count ?? 0
                for call in delta?["tool_calls"]?.array ?? [] {
                    count += call["function"]?["arguments"]?.string?.utf8.count ?? 0
                }
            }
            return count
        }
    }
}
