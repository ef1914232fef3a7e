import FairwayCore

/// A cached answer replayed as the stream its endpoint's clients expect: OpenAI chat or completion chunks ending in
/// `[DONE]`, Anthropic message events, or Responses events. Pure; the cached body is the endpoint's own non-streamed
/// answer, so a replay carries the same text, tool calls and finish reasons.
enum StreamReplay {
    static func events(endpoint: RelayEndpoint, body: JSON, wantsUsage: Bool) -> [SSEEvent]? {
        switch endpoint {
        case .chatCompletions: chat(body, wantsUsage: wantsUsage)
        case .completions: completions(body, wantsUsage: wantsUsage)
        case .messages: messages(body)
        case .responses: responses(body)
        case .embeddings, .countTokens: nil
        }
    }

    static func chat(_ body: JSON, wantsUsage: Bool) -> [SSEEvent]? {
        guard let choices = body["choices"]?.array else { return nil }
        var opening: [JSON] = []
        var closing: [JSON] = []
        for (position, choice) in choices.enumerated() {
            let index = choice["index"] ?? .integer(position)
            var delta: JSONObject = ["role": "assistant"]
            let message = choice["message"]
            if let content = message?["content"], content != .null { delta["content"] = content }
            if let refusal = message?["refusal"], refusal != .null { delta["refusal"] = refusal }
            if let calls = message?["tool_calls"]?.array {
                delta["tool_calls"] = .array(calls.enumerated().map { callIndex, call in
                    var streamed = call.object ?? JSONObject()
                    streamed["index"] = .integer(callIndex)
                    return .object(streamed)
                })
            }
            opening.append(["index": index, "delta": .object(delta), "finish_reason": .null])
            closing.append(["index": index, "delta": [:], "finish_reason": choice["finish_reason"] ?? "stop"])
        }
        var chunks = [chunk(body, object: "chat.completion.chunk", choices: opening), chunk(body, object: "chat.completion.chunk", choices: closing)]
        if wantsUsage, let usage = body["usage"] { chunks.append(chunk(body, object: "chat.completion.chunk", choices: [], usage: usage)) }
        return chunks.map { SSEEvent(data: $0.text) } + [SSEEvent(data: "[DONE]")]
    }

    static func completions(_ body: JSON, wantsUsage: Bool) -> [SSEEvent]? {
        guard let choices = body["choices"]?.array else { return nil }
        var chunks: [JSON] = []
        for (position, choice) in choices.enumerated() {
            let index = choice["index"] ?? .integer(position)
            chunks.append(chunk(body, object: "text_completion", choices: [
                ["index": index, "text": choice["text"] ?? "", "logprobs": .null, "finish_reason": .null],
            ]))
            chunks.append(chunk(body, object: "text_completion", choices: [
                ["index": index, "text": "", "logprobs": .null, "finish_reason": choice["finish_reason"] ?? "stop"],
            ]))
        }
        if wantsUsage, let usage = body["usage"] { chunks.append(chunk(body, object: "text_completion", choices: [], usage: usage)) }
        return chunks.map { SSEEvent(data: $0.text) } + [SSEEvent(data: "[DONE]")]
    }

    private static func chunk(_ body: JSON, object: String, choices: [JSON], usage: JSON? = nil) -> JSON {
        var chunk: JSONObject = [
            "id": body["id"] ?? "fairway-cache", "object": .string(object), "created": body["created"] ?? 0,
            "model": body["model"] ?? "", "choices": .array(choices),
        ]
        if let usage { chunk["usage"] = usage }
        return .object(chunk)
    }

    /// `message_start`, each content block as start / one delta / stop, `message_delta` with the stop reason and
    /// usage, `message_stop`.
    static func messages(_ body: JSON) -> [SSEEvent]? {
        guard var message = body.object, let blocks = body["content"]?.array else { return nil }
        var events: [SSEEvent] = []
        func emit(_ type: String, _ fields: JSONObject) {
            var payload: JSONObject = ["type": .string(type)]
            for (key, value) in fields { payload[key] = value }
            events.append(SSEEvent(event: type, data: JSON.object(payload).text))
        }
        let usage = body["usage"]?.object ?? JSONObject()
        var startUsage = usage
        startUsage["output_tokens"] = 0
        message["content"] = []
        message["stop_reason"] = .null
        message["stop_sequence"] = .null
        message["usage"] = .object(startUsage)
        emit("message_start", ["message": .object(message)])
        for (index, block) in blocks.enumerated() {
            let (start, deltas) = Self.streamed(block)
            emit("content_block_start", ["index": .integer(index), "content_block": start])
            for delta in deltas { emit("content_block_delta", ["index": .integer(index), "delta": delta]) }
            emit("content_block_stop", ["index": .integer(index)])
        }
        emit("message_delta", [
            "delta": ["stop_reason": body["stop_reason"] ?? "end_turn", "stop_sequence": body["stop_sequence"] ?? .null],
            "usage": ["output_tokens": usage["output_tokens"] ?? 0],
        ])
        emit("message_stop", [:])
        return events
    }

    /// A content block as it starts (payload empty) and the deltas that fill it.
    private static func streamed(_ block: JSON) -> (start: JSON, deltas: [JSON]) {
        var start = block.object ?? JSONObject()
        switch block["type"]?.string {
        case "text":
            start["text"] = ""
            return (.object(start), [["type": "text_delta", "text": block["text"] ?? ""]])
        case "tool_use":
            start["input"] = [:]
            return (.object(start), [["type": "input_json_delta", "partial_json": .string((block["input"] ?? [:]).text)]])
        case "thinking":
            start["thinking"] = ""
            start["signature"] = nil
            var deltas: [JSON] = [["type": "thinking_delta", "thinking": block["thinking"] ?? ""]]
            if let signature = block["signature"] { deltas.append(["type": "signature_delta", "signature": signature]) }
            return (.object(start), deltas)
        default:
            return (block, [])
        }
    }

    /// `response.created`, each output item added / filled / done, `response.completed` with the whole response.
    static func responses(_ body: JSON) -> [SSEEvent]? {
        guard var started = body.object, let output = body["output"]?.array else { return nil }
        var events: [SSEEvent] = []
        var sequence = 0
        func emit(_ type: String, _ fields: JSONObject) {
            var payload: JSONObject = ["type": .string(type), "sequence_number": .integer(sequence)]
            for (key, value) in fields { payload[key] = value }
            sequence += 1
            events.append(SSEEvent(event: type, data: JSON.object(payload).text))
        }
        started["status"] = "in_progress"
        started["output"] = []
        started["usage"] = .null
        emit("response.created", ["response": .object(started)])
        emit("response.in_progress", ["response": .object(started)])
        for (index, item) in output.enumerated() {
            let outputIndex = JSON.integer(index)
            let itemID = item["id"] ?? ""
            var added = item.object ?? JSONObject()
            added["status"] = "in_progress"
            if item["type"]?.string == "message" { added["content"] = [] }
            if item["type"]?.string == "function_call" { added["arguments"] = "" }
            emit("response.output_item.added", ["output_index": outputIndex, "item": .object(added)])
            if item["type"]?.string == "message" {
                for (partIndex, part) in (item["content"]?.array ?? []).enumerated() {
                    let contentIndex = JSON.integer(partIndex)
                    var empty = part.object ?? JSONObject()
                    empty["text"] = ""
                    emit("response.content_part.added", ["item_id": itemID, "output_index": outputIndex, "content_index": contentIndex, "part": .object(empty)])
                    let text = part["text"] ?? ""
                    emit("response.output_text.delta", ["item_id": itemID, "output_index": outputIndex, "content_index": contentIndex, "delta": text])
                    emit("response.output_text.done", ["item_id": itemID, "output_index": outputIndex, "content_index": contentIndex, "text": text])
                    emit("response.content_part.done", ["item_id": itemID, "output_index": outputIndex, "content_index": contentIndex, "part": part])
                }
            } else if item["type"]?.string == "function_call" {
                let arguments = item["arguments"] ?? ""
                emit("response.function_call_arguments.delta", ["item_id": itemID, "output_index": outputIndex, "delta": arguments])
                emit("response.function_call_arguments.done", ["item_id": itemID, "output_index": outputIndex, "arguments": arguments])
            }
            emit("response.output_item.done", ["output_index": outputIndex, "item": item])
        }
        emit("response.completed", ["response": body])
        return events
    }
}
