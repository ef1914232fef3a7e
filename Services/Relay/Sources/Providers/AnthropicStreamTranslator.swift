import FairwayCore
import Foundation

/// Anthropic streaming events → OpenAI `chat.completion.chunk` payloads.
///
/// `message_start` opens the answer (role chunk), text deltas become `content` deltas, `tool_use` blocks become
/// `tool_calls` deltas with their own index, `message_delta` carries the finish reason and output tokens, and
/// `message_stop` closes with the usage chunk (when the client asked for it) and `[DONE]`.
struct AnthropicStreamTranslator: StreamTranslator {
    let clientWantsUsage: Bool
    var usage = TokenUsage.zero
    var isComplete = false
    var streamedCharacters = 0
    private var id = "msg"
    private var model = ""
    private let created = Int(Date().timeIntervalSince1970)
    /// Content-block index → OpenAI tool-call index.
    private var toolIndex: [Int: Int] = [:]

    init(clientWantsUsage: Bool) {
        self.clientWantsUsage = clientWantsUsage
    }

    private func chunk(delta: JSON, finishReason: String? = nil) -> String {
        let payload: JSON = [
            "id": .string(id),
            "object": "chat.completion.chunk",
            "created": .integer(created),
            "model": .string(model),
            "choices": [[
                "index": 0,
                "delta": delta,
                "logprobs": nil,
                "finish_reason": finishReason.map(JSON.string) ?? .null,
            ]],
        ]
        return payload.text
    }

    mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent] {
        try translatedPayloads(event).map { SSEEvent(data: $0) }
    }

    private mutating func translatedPayloads(_ event: SSEEvent) throws(RelayError) -> [String] {
        guard let payload = try? JSONParser.parse(event.data) else { return [] }
        switch payload["type"]?.string ?? event.event {
        case "message_start":
            let message = payload["message"]
            id = message?["id"]?.string ?? id
            model = message?["model"]?.string ?? model
            usage = AnthropicProvider.usage(message?["usage"])
            return [chunk(delta: ["role": "assistant", "content": ""])]
        case "content_block_start":
            guard let block = payload["content_block"], block["type"]?.string == "tool_use" else {
                if let text = payload["content_block"]?["text"]?.string, !text.isEmpty { return [chunk(delta: ["content": .string(text)])] }
                return []
            }
            let index = toolIndex.count
            toolIndex[payload["index"]?.int ?? 0] = index
            return [chunk(delta: ["tool_calls": [[
                "index": .integer(index),
                "id": .string(block["id"]?.string ?? ""),
                "type": "function",
                "function": ["name": .string(block["name"]?.string ?? ""), "arguments": ""],
            ]]])]
        case "content_block_delta":
            let delta = payload["delta"]
            switch delta?["type"]?.string {
            case "text_delta":
                let text = delta?["text"]?.string ?? ""
                streamedCharacters.saturatingAdd(text.utf8.count)
                return [chunk(delta: ["content": .string(text)])]
            case "input_json_delta":
                let index = toolIndex[payload["index"]?.int ?? 0] ?? 0
                let arguments = delta?["partial_json"]?.string ?? ""
                streamedCharacters.saturatingAdd(arguments.utf8.count)
                return [chunk(delta: ["tool_calls": [[
                    "index": .integer(index),
                    "function": ["arguments": .string(arguments)],
                ]]])]
            default:
                return []
            }
        case "message_delta":
            if let output = payload["usage"]?["output_tokens"] { usage.completionTokens = TokenUsage.count(output) }
            let reason = AnthropicProvider.finishReason(payload["delta"]?["stop_reason"]?.string)
            return [chunk(delta: [:], finishReason: reason)]
        case "message_stop":
            isComplete = true
            var out: [String] = []
            if clientWantsUsage {
                let final: JSON = [
                    "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
                    "choices": [], "usage": usage.openAIJSON,
                ]
                out.append(final.text)
            }
            return out + ["[DONE]"]
        case "error":
            throw RelayError(
                status: .badGateway, type: payload["error"]?["type"]?.string ?? "upstream_error",
                message: payload["error"]?["message"]?.string ?? "Anthropic stream error"
            )
        default:
            return []
        }
    }
}
