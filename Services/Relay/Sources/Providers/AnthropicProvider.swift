import Foundation

/// Anthropic's Messages API behind the OpenAI chat-completions interface: requests, answers, tool calls, usage
/// (including prompt-cache tokens) and streaming events are translated both ways.
public struct AnthropicProvider: UpstreamProvider {
    public static let apiVersion = "2023-06-01"
    /// Anthropic requires `max_tokens`; this is used when the client sent none.
    public static let defaultMaxTokens = 4096

    public init() {}

    public func supports(_ endpoint: RelayEndpoint) -> Bool { endpoint == .chatCompletions }

    public func makeRequest(endpoint: RelayEndpoint, body: JSONObject, deployment: Deployment, stream: Bool) throws(RelayError) -> UpstreamRequest {
        let translated = try AnthropicRequestTranslation.messagesBody(from: body, upstreamModel: deployment.upstreamModel, stream: stream)
        var headers = [
            ("content-type", "application/json"),
            ("anthropic-version", Self.apiVersion),
            ("accept", stream ? "text/event-stream" : "application/json"),
        ]
        if let key = deployment.apiKey, !key.isEmpty { headers.append(("x-api-key", key)) }
        return UpstreamRequest(url: deployment.url("/v1/messages"), headers: headers, body: JSON.object(translated).bytes)
    }

    public func translateResponse(endpoint: RelayEndpoint, body: [UInt8]) throws(RelayError) -> (body: [UInt8], usage: TokenUsage) {
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

    public func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        let parsed = try? JSONParser.parse(body)
        let type = parsed?["error"]?["type"]?.string ?? "upstream_error"
        let message = parsed?["error"]?["message"]?.string ?? String(decoding: body.prefix(500), as: UTF8.self)
        let openAIType = type == "invalid_request_error" || type == "not_found_error" ? "invalid_request_error" : type
        return RelayError(status: .init(code: status), type: openAIType, message: message).json.bytes
    }

    public func makeStreamTranslator(endpoint: RelayEndpoint, clientWantsUsage: Bool) -> any StreamTranslator {
        AnthropicStreamTranslator(clientWantsUsage: clientWantsUsage)
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
            cachedTokens: cacheRead
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
