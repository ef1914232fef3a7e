import Foundation

/// OpenAI Chat Completions answers → Anthropic Messages answers, for a Messages client on an OpenAI-compatible
/// deployment. Pure.
enum ChatToMessages {
    /// A chat completion → a Messages `message`, and its usage.
    static func message(from body: [UInt8]) throws(RelayError) -> (body: [UInt8], usage: TokenUsage) {
        guard let completion = try? JSONParser.parse(body), let choice = completion["choices"]?.array?.first else {
            throw RelayError(status: .badGateway, type: "upstream_error", message: "The upstream answered with something that is not a chat completion.")
        }
        let usage = TokenUsage(openAI: completion["usage"]) ?? .zero
        var content: [JSON] = []
        if let text = choice["message"]?["content"]?.string, !text.isEmpty { content.append(["type": "text", "text": .string(text)]) }
        for call in choice["message"]?["tool_calls"]?.array ?? [] {
            content.append(toolUse(id: call["id"]?.string, name: call["function"]?["name"]?.string, arguments: call["function"]?["arguments"]?.string))
        }
        let message: JSON = [
            "id": .string(messageID(completion["id"]?.string)),
            "type": "message",
            "role": "assistant",
            "model": .string(completion["model"]?.string ?? ""),
            "content": .array(content),
            "stop_reason": .string(stopReason(choice["finish_reason"]?.string)),
            "stop_sequence": nil,
            "usage": anthropicUsage(usage),
        ]
        return (message.bytes, usage)
    }

    static func toolUse(id: String?, name: String?, arguments: String?) -> JSON {
        let input = arguments.flatMap { try? JSONParser.parse($0) }.flatMap { $0.object.map(JSON.object) } ?? [:]
        return ["type": "tool_use", "id": .string(id ?? "toolu"), "name": .string(name ?? ""), "input": input]
    }

    static func messageID(_ id: String?) -> String {
        guard let id, !id.isEmpty else { return "msg_fairway" }
        return id.hasPrefix("msg_") ? id : "msg_" + id
    }

    /// OpenAI counts cached prompt tokens inside `prompt_tokens`; Anthropic reports them apart.
    static func anthropicUsage(_ usage: TokenUsage) -> JSON {
        [
            "input_tokens": .number(String(usage.promptTokens - usage.cachedTokens)),
            "output_tokens": .number(String(usage.completionTokens)),
            "cache_read_input_tokens": .number(String(usage.cachedTokens)),
            "cache_creation_input_tokens": 0,
        ]
    }

    static func stopReason(_ finishReason: String?) -> String {
        switch finishReason {
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        default: "end_turn"
        }
    }

    /// An OpenAI-shaped upstream error → Anthropic's shape, the status kept.
    static func error(status: Int, body: [UInt8]) -> [UInt8] {
        let parsed = try? JSONParser.parse(body)
        let message = parsed?["error"]?["message"]?.string ?? String(decoding: body.prefix(500), as: UTF8.self)
        return RelayError(status: .init(code: status), type: "upstream_error", message: message).anthropicJSON.bytes
    }
}
