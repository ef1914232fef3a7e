import FairwayCore

/// Rebuilds the non-streamed answer from the events a client was sent, so a streamed answer can be cached once it
/// completed. Pure; one per stream. Gives up (nil) on anything it does not understand or beyond `limit` bytes.
struct StreamAssembler: Sendable {
    let endpoint: RelayEndpoint
    let limit: Int
    private var seen = 0
    private var failed = false
    private var head: JSONObject?
    /// Chat / completions: per choice index, the text, the role, tool calls (by index) and the finish reason.
    private var choices: [Int: Choice] = [:]
    /// Messages: content blocks by index, with a tool call's partial JSON.
    private var blocks: [Int: JSONObject] = [:]
    private var partialJSON: [Int: String] = [:]
    private var tail: JSONObject = [:]
    /// Responses: the whole response from `response.completed`.
    private var completed: JSON?

    struct Choice: Sendable {
        var text = ""
        var refusal: String?
        var role = "assistant"
        var calls: [Int: JSONObject] = [:]
        var arguments: [Int: String] = [:]
        var finishReason: JSON = .null
        var hasText = false
    }

    init(endpoint: RelayEndpoint, limit: Int) {
        self.endpoint = endpoint
        self.limit = limit
    }

    mutating func add(_ events: [SSEEvent]) {
        for event in events where !failed {
            seen += event.data.utf8.count
            guard seen <= limit else { failed = true; return }
            guard event.data != "[DONE]" else { continue }
            guard let payload = try? JSONParser.parse(event.data), payload.object != nil else { failed = true; return }
            switch endpoint {
            case .chatCompletions, .completions: addChunk(payload)
            case .messages: addMessageEvent(payload)
            case .responses: if payload["type"]?.string == "response.completed" { completed = payload["response"] }
            case .embeddings, .countTokens: failed = true
            }
        }
    }

    private mutating func addChunk(_ chunk: JSON) {
        if head == nil { head = chunk.object }
        if let usage = chunk["usage"], usage != .null { tail["usage"] = usage }
        for (position, choice) in (chunk["choices"]?.array ?? []).enumerated() {
            let index = choice["index"]?.int ?? position
            var state = choices[index] ?? Choice()
            let delta = choice["delta"] ?? .null
            if let text = (endpoint == .completions ? choice["text"] : delta["content"])?.string {
                state.text += text
                state.hasText = true
            }
            if let refusal = delta["refusal"]?.string { state.refusal = (state.refusal ?? "") + refusal }
            if let role = delta["role"]?.string { state.role = role }
            for (callPosition, call) in (delta["tool_calls"]?.array ?? []).enumerated() {
                let callIndex = call["index"]?.int ?? callPosition
                var stored = state.calls[callIndex] ?? ["id": call["id"] ?? "", "type": call["type"] ?? "function"]
                if let id = call["id"] { stored["id"] = id }
                if let name = call["function"]?["name"] { stored["name"] = name }
                state.calls[callIndex] = stored
                state.arguments[callIndex, default: ""] += call["function"]?["arguments"]?.string ?? ""
            }
            if let reason = choice["finish_reason"], reason != .null { state.finishReason = reason }
            choices[index] = state
        }
    }

    private mutating func addMessageEvent(_ event: JSON) {
        let index = event["index"]?.int ?? 0
        switch event["type"]?.string {
        case "message_start": head = event["message"]?.object
        case "content_block_start": blocks[index] = event["content_block"]?.object
        case "content_block_delta":
            guard var block = blocks[index], let delta = event["delta"] else { failed = true; return }
            switch delta["type"]?.string {
            case "text_delta": block["text"] = .string((block["text"]?.string ?? "") + (delta["text"]?.string ?? ""))
            case "thinking_delta": block["thinking"] = .string((block["thinking"]?.string ?? "") + (delta["thinking"]?.string ?? ""))
            case "signature_delta": block["signature"] = delta["signature"]
            case "input_json_delta": partialJSON[index, default: ""] += delta["partial_json"]?.string ?? ""
            default: break
            }
            blocks[index] = block
        case "message_delta":
            for (key, value) in event["delta"]?.object ?? [:] { tail[key] = value }
            if let usage = event["usage"]?.object { tail["usage_delta"] = .object(usage) }
        case "message_stop": completed = .bool(true)
        default: break
        }
    }

    /// The answer, when the stream completed and everything was understood.
    func answer(usage: TokenUsage) -> [UInt8]? {
        guard !failed else { return nil }
        switch endpoint {
        case .chatCompletions, .completions: return chatAnswer(usage: usage)?.bytes
        case .messages: return messageAnswer()?.bytes
        case .responses: return completed?.bytes
        case .embeddings, .countTokens: return nil
        }
    }

    private func chatAnswer(usage: TokenUsage) -> JSON? {
        guard let head, !choices.isEmpty, choices.values.allSatisfy({ $0.finishReason != .null }) else { return nil }
        let chat = endpoint == .chatCompletions
        let assembled: [JSON] = choices.keys.sorted().compactMap { index in
            guard let choice = choices[index] else { return nil }
            if !chat {
                return ["index": .integer(index), "text": .string(choice.text), "logprobs": .null, "finish_reason": choice.finishReason]
            }
            var message: JSONObject = ["role": .string(choice.role), "content": choice.hasText || choice.calls.isEmpty ? .string(choice.text) : .null]
            if let refusal = choice.refusal { message["refusal"] = .string(refusal) }
            if !choice.calls.isEmpty {
                message["tool_calls"] = .array(choice.calls.keys.sorted().map { callIndex in
                    let call = choice.calls[callIndex] ?? [:]
                    return [
                        "id": call["id"] ?? "", "type": call["type"] ?? "function",
                        "function": ["name": call["name"] ?? "", "arguments": .string(choice.arguments[callIndex] ?? "")],
                    ]
                })
            }
            return ["index": .integer(index), "message": .object(message), "finish_reason": choice.finishReason]
        }
        return [
            "id": head["id"] ?? "fairway-cache", "object": chat ? "chat.completion" : "text_completion",
            "created": head["created"] ?? 0, "model": head["model"] ?? "", "choices": .array(assembled),
            "usage": tail["usage"] ?? [
                "prompt_tokens": .number(String(usage.promptTokens)), "completion_tokens": .number(String(usage.completionTokens)),
                "total_tokens": .number(String(usage.totalTokens)),
            ],
        ]
    }

    private func messageAnswer() -> JSON? {
        guard var message = head, completed != nil else { return nil }
        var content: [JSON] = []
        for index in blocks.keys.sorted() {
            guard var block = blocks[index] else { continue }
            if let partial = partialJSON[index] {
                guard let input = partial.isEmpty ? JSON.object([:]) : try? JSONParser.parse(partial) else { return nil }
                block["input"] = input
            }
            content.append(.object(block))
        }
        message["content"] = .array(content)
        message["stop_reason"] = tail["stop_reason"] ?? .null
        message["stop_sequence"] = tail["stop_sequence"] ?? .null
        var usage = message["usage"]?.object ?? JSONObject()
        for (key, value) in tail["usage_delta"]?.object ?? [:] { usage[key] = value }
        message["usage"] = .object(usage)
        return .object(message)
    }
}
