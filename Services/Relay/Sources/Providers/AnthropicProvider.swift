import Foundation

/// Anthropic's Messages API behind the OpenAI chat-completions interface: requests, answers, tool calls, usage
/// (including prompt-cache tokens) and streaming events are translated both ways.
public struct AnthropicProvider: UpstreamProvider {
    public static let apiVersion = "2023-06-01"
    /// Anthropic requires `max_tokens`; this is used when the client sent none.
    public static let defaultMaxTokens = 4096

    public init() {}

    public func supports(_ endpoint: RelayEndpoint) -> Bool { [.chatCompletions, .messages, .countTokens, .responses].contains(endpoint) }

    public func makeRequest(_ request: ParsedRequest, deployment: Deployment) throws(RelayError) -> UpstreamRequest {
        let stream = request.stream
        if request.endpoint.format == .anthropic { return passthrough(request, deployment: deployment) }
        // Responses reach Anthropic through chat: Responses → chat → Messages.
        let chat = request.endpoint == .responses
            ? try ResponsesToChat.body(from: request.body, upstreamModel: deployment.upstreamModel, stream: stream) : request.body
        let translated = try AnthropicRequestTranslation.messagesBody(from: chat, upstreamModel: deployment.upstreamModel, stream: stream)
        var headers = [
            ("content-type", "application/json"),
            ("anthropic-version", Self.apiVersion),
            ("accept", stream ? "text/event-stream" : "application/json"),
        ]
        if let key = deployment.apiKey, !key.isEmpty { headers.append(("x-api-key", key)) }
        return UpstreamRequest(url: deployment.url("/v1/messages"), headers: headers, body: JSON.object(translated).bytes)
    }

    /// A Messages client's own request, byte for byte but `model` (so `cache_control` and everything else reach the
    /// prompt cache as sent), with its `anthropic-version` and `anthropic-beta` headers.
    func passthrough(_ request: ParsedRequest, deployment: Deployment) -> UpstreamRequest {
        var headers = request.passthroughHeaders
        let forwarded = Dictionary(request.forwardedHeaders, uniquingKeysWith: { first, _ in first })
        headers.append(("anthropic-version", forwarded["anthropic-version"] ?? Self.apiVersion))
        if let beta = forwarded["anthropic-beta"] { headers.append(("anthropic-beta", beta)) }
        if let key = deployment.apiKey, !key.isEmpty { headers.append(("x-api-key", key)) }
        let path = request.endpoint == .countTokens ? "/v1/messages/count_tokens" : "/v1/messages"
        return UpstreamRequest(url: deployment.url(path), headers: headers, body: request.passthroughBody(model: deployment.upstreamModel))
    }

    public func translateResponse(endpoint: RelayEndpoint, deployment: Deployment, body: [UInt8]) throws(RelayError) -> (body: [UInt8], usage: TokenUsage) {
        switch endpoint {
        case .countTokens: return (body, .zero)
        case .messages: return (body, Self.usage((try? JSONParser.parse(body))?["usage"]))
        case .responses:
            let chat = try translateResponse(endpoint: .chatCompletions, deployment: deployment, body: body)
            return (try ChatToResponses.response(from: chat.body, model: deployment.modelName).body, chat.usage)
        default: break
        }
        guard let message = try? JSONParser.parse(body), message["type"]?.string == "message" else {
            throw RelayError(status: .badGateway, type: "upstream_error", message: "Anthropic answered with something that is not a message.")
        }
        let usage = Self.usage(message["usage"])
        var text = ""
        var toolCalls: [JSON] = []
        for block in message["content"]?.array ?? [] {
            switch block["type"]?.string {
            case "text": text += block["text"]?.string ?? ""
            case "tool_use":
                toolCalls.append([
                    "id": .string(block["id"]?.string ?? ""),
                    "type": "function",
                    "function": [
                        "name": .string(block["name"]?.string ?? ""),
                        "arguments": .string((block["input"] ?? [:]).text),
                    ],
                ])
            default: break
            }
        }
        var assistant: JSONObject = ["role": "assistant", "content": text.isEmpty && !toolCalls.isEmpty ? .null : .string(text)]
        if !toolCalls.isEmpty { assistant["tool_calls"] = .array(toolCalls) }
        let completion: JSON = [
            "id": .string(message["id"]?.string ?? "msg"),
            "object": "chat.completion",
            "created": .integer(Int(Date().timeIntervalSince1970)),
            "model": .string(message["model"]?.string ?? ""),
            "choices": [[
                "index": 0,
                "message": .object(assistant),
                "logprobs": nil,
                "finish_reason": .string(Self.finishReason(message["stop_reason"]?.string)),
            ]],
            "usage": usage.openAIJSON,
        ]
        return (completion.bytes, usage)
    }

    public func translateError(endpoint: RelayEndpoint, deployment: Deployment, status: Int, body: [UInt8]) -> [UInt8] {
        let parsed = try? JSONParser.parse(body)
        if endpoint.format == .anthropic {
            if parsed?["type"]?.string == "error" { return body }
            let message = parsed?["error"]?["message"]?.string ?? String(decoding: body.prefix(500), as: UTF8.self)
            return RelayError(status: .init(code: status), type: "upstream_error", message: message).anthropicJSON.bytes
        }
        let type = parsed?["error"]?["type"]?.string ?? "upstream_error"
        let message = parsed?["error"]?["message"]?.string ?? String(decoding: body.prefix(500), as: UTF8.self)
        let openAIType = type == "invalid_request_error" || type == "not_found_error" ? "invalid_request_error" : type
        return RelayError(status: .init(code: status), type: openAIType, message: message).json.bytes
    }

    public func makeStreamTranslator(endpoint: RelayEndpoint, deployment: Deployment, clientWantsUsage: Bool) -> any StreamTranslator {
        switch endpoint {
        case .messages: MessagesPassthroughStream()
        case .responses: ChainedStreamTranslator(first: AnthropicStreamTranslator(clientWantsUsage: true), second: ChatToResponsesStream(model: deployment.modelName))
        default: AnthropicStreamTranslator(clientWantsUsage: clientWantsUsage)
        }
    }

    /// OpenAI counts every prompt token in `prompt_tokens`; Anthropic splits out cache reads and writes.
    static func usage(_ usage: JSON?) -> TokenUsage {
        let input = TokenUsage.count(usage?["input_tokens"])
        let cacheRead = TokenUsage.count(usage?["cache_read_input_tokens"])
        let cacheWrite = TokenUsage.count(usage?["cache_creation_input_tokens"])
        // Each part is at most 2^40, so the sum cannot overflow; the initializer clamps it.
        return TokenUsage(
            promptTokens: input + cacheRead + cacheWrite,
            completionTokens: TokenUsage.count(usage?["output_tokens"]),
            cachedTokens: cacheRead, cacheWriteTokens: cacheWrite
        )
    }

    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }
}
