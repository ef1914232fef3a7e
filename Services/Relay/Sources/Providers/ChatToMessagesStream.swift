import FairwayCore

/// OpenAI chat-completion chunks → Anthropic Messages stream events, for a Messages client on an OpenAI-compatible
/// deployment: `message_start`, then per content block `content_block_start` / `content_block_delta` (`text_delta`,
/// `input_json_delta` for tool arguments) / `content_block_stop`, then `message_delta` with the stop reason and usage,
/// and `message_stop`.
struct ChatToMessagesStream: StreamTranslator {
    var usage = TokenUsage.zero
    var isComplete = false
    var streamedCharacters = 0
    private var started = false
    private var id = "msg_fairway"
    private var model = ""
    /// The open content block: its index and whether it is text (else a tool call with this OpenAI index).
    private var open: (index: Int, toolCall: Int?)?
    private var nextIndex = 0
    private var stopReason = "end_turn"

    mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent] {
        let chunk: JSON
        switch try ChatChunk.read(event) {
        case .done: return finish()
        case .skip: return []
        case .chunk(let read): chunk = read
        }
        var out = start(chunk)
        if let reported = TokenUsage(openAI: chunk["usage"]) { usage = reported }
        for choice in chunk["choices"]?.array ?? [] {
            let delta = choice["delta"]
            if let text = delta?["content"]?.string, !text.isEmpty {
                out += openBlock(toolCall: nil, start: ["type": "text", "text": ""])
                streamedCharacters.saturatingAdd(text.utf8.count)
                out.append(Self.event("content_block_delta", ["type": "content_block_delta", "index": .integer(open?.index ?? 0), "delta": ["type": "text_delta", "text": .string(text)]]))
            }
            for call in delta?["tool_calls"]?.array ?? [] {
                let callIndex = call["index"]?.int ?? 0
                if open?.toolCall != callIndex {
                    let block: JSON = ["type": "tool_use", "id": .string(call["id"]?.string ?? "toolu_\(callIndex)"), "name": .string(call["function"]?["name"]?.string ?? ""), "input": [:]]
                    out += openBlock(toolCall: callIndex, start: block)
                }
                if let arguments = call["function"]?["arguments"]?.string, !arguments.isEmpty {
                    streamedCharacters.saturatingAdd(arguments.utf8.count)
                    out.append(Self.event("content_block_delta", ["type": "content_block_delta", "index": .integer(open?.index ?? 0), "delta": ["type": "input_json_delta", "partial_json": .string(arguments)]]))
                }
            }
            if let reason = choice["finish_reason"]?.string { stopReason = ChatToMessages.stopReason(reason) }
        }
        return out
    }

    private mutating func start(_ chunk: JSON) -> [SSEEvent] {
        guard !started else { return [] }
        started = true
        id = ChatToMessages.messageID(chunk["id"]?.string)
        model = chunk["model"]?.string ?? ""
        let message: JSON = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
            "stop_reason": nil, "stop_sequence": nil, "usage": ["input_tokens": 0, "output_tokens": 0],
        ]
        return [Self.event("message_start", ["type": "message_start", "message": message])]
    }

    /// Closes the open block if it is a different one, and opens the next.
    private mutating func openBlock(toolCall: Int?, start block: JSON) -> [SSEEvent] {
        if let open, open.toolCall == toolCall { return [] }
        var out = closeBlock()
        open = (nextIndex, toolCall)
        out.append(Self.event("content_block_start", ["type": "content_block_start", "index": .integer(nextIndex), "content_block": block]))
        nextIndex += 1
        return out
    }

    private mutating func closeBlock() -> [SSEEvent] {
        guard let block = open else { return [] }
        open = nil
        return [Self.event("content_block_stop", ["type": "content_block_stop", "index": .integer(block.index)])]
    }

    private mutating func finish() -> [SSEEvent] {
        guard !isComplete else { return [] }
        isComplete = true
        var out = start([:]) + closeBlock()
        var finalUsage = ChatToMessages.anthropicUsage(usage).object ?? [:]
        finalUsage["cache_creation_input_tokens"] = nil
        out.append(Self.event("message_delta", [
            "type": "message_delta", "delta": ["stop_reason": .string(stopReason), "stop_sequence": nil], "usage": .object(finalUsage),
        ]))
        out.append(Self.event("message_stop", ["type": "message_stop"]))
        return out
    }

    static func event(_ name: String, _ payload: JSON) -> SSEEvent {
        SSEEvent(event: name, data: payload.text)
    }
}

/// Anthropic's own stream, passed through event by event to a Messages client; usage is read from `message_start`
/// (input and cache tokens) and `message_delta` (output tokens), the text length from the deltas.
struct MessagesPassthroughStream: StreamTranslator {
    var usage = TokenUsage.zero
    var isComplete = false
    var streamedCharacters = 0

    mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent] {
        guard let payload = try? JSONParser.parse(event.data) else { return [event] }
        switch payload["type"]?.string ?? event.event {
        case "message_start":
            usage = AnthropicProvider.usage(payload["message"]?["usage"])
        case "message_delta":
            if let output = payload["usage"]?["output_tokens"] { usage.completionTokens = TokenUsage.count(output) }
        case "content_block_delta":
            let delta = payload["delta"]
            streamedCharacters.saturatingAdd((delta?["text"]?.string ?? delta?["partial_json"]?.string ?? "").utf8.count)
        case "message_stop":
            isComplete = true
        case "error":
            throw RelayError(
                status: .badGateway, type: payload["error"]?["type"]?.string ?? "upstream_error",
                message: payload["error"]?["message"]?.string ?? "Anthropic stream error"
            )
        default:
            break
        }
        return [event]
    }
}
