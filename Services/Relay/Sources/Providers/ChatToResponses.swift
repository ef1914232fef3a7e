import FairwayCore
import Foundation

/// Chat Completions answers → OpenAI Responses answers, for a Responses client on a deployment that does not serve
/// `/responses`. Pure.
enum ChatToResponses {
    /// A chat completion → a `response` object, and its usage.
    static func response(from body: [UInt8], model fallback: String) throws(RelayError) -> (body: [UInt8], usage: TokenUsage) {
        guard let completion = try? JSONParser.parse(body), let choice = completion["choices"]?.array?.first else {
            throw RelayError(status: .badGateway, type: "upstream_error", message: "The upstream answered with something that is not a chat completion.")
        }
        let usage = TokenUsage(openAI: completion["usage"]) ?? .zero
        let id = completion["id"]?.string ?? "fairway"
        var output: [JSON] = []
        if let text = choice["message"]?["content"]?.string, !text.isEmpty { output.append(message(id: id, text: text, done: true)) }
        for call in choice["message"]?["tool_calls"]?.array ?? [] {
            output.append(functionCall(
                callID: call["id"]?.string ?? "call", name: call["function"]?["name"]?.string ?? "",
                arguments: call["function"]?["arguments"]?.string ?? "", done: true
            ))
        }
        let model = completion["model"]?.string ?? fallback
        return (response(id: id, model: model, status: "completed", output: output, usage: usage).bytes, usage)
    }

    static func response(id: String, model: String, status: String, output: [JSON], usage: TokenUsage?) -> JSON {
        [
            "id": .string(id.hasPrefix("resp_") ? id : "resp_" + id),
            "object": "response",
            "created_at": .integer(Int(Date().timeIntervalSince1970)),
            "status": .string(status),
            "model": .string(model),
            "output": .array(output),
            "parallel_tool_calls": true,
            "tool_choice": "auto",
            "tools": [],
            "usage": usage.map(responsesUsage) ?? .null,
        ]
    }

    static func message(id: String, text: String, done: Bool) -> JSON {
        [
            "type": "message", "id": .string("msg_" + id), "status": .string(done ? "completed" : "in_progress"), "role": "assistant",
            "content": done ? [["type": "output_text", "text": .string(text), "annotations": []]] : [],
        ]
    }

    static func functionCall(callID: String, name: String, arguments: String, done: Bool) -> JSON {
        [
            "type": "function_call", "id": .string("fc_" + callID), "call_id": .string(callID), "name": .string(name),
            "arguments": .string(arguments), "status": .string(done ? "completed" : "in_progress"),
        ]
    }

    static func responsesUsage(_ usage: TokenUsage) -> JSON {
        [
            "input_tokens": .number(String(usage.promptTokens)),
            "input_tokens_details": ["cached_tokens": .number(String(usage.cachedTokens))],
            "output_tokens": .number(String(usage.completionTokens)),
            "output_tokens_details": ["reasoning_tokens": 0],
            "total_tokens": .number(String(usage.totalTokens)),
        ]
    }

    /// Usage as a Responses answer reports it.
    static func usage(_ json: JSON?) -> TokenUsage {
        TokenUsage(
            promptTokens: TokenUsage.count(json?["input_tokens"]), completionTokens: TokenUsage.count(json?["output_tokens"]),
            cachedTokens: TokenUsage.count(json?["input_tokens_details"]?["cached_tokens"])
        )
    }
}

/// Chat chunks → Responses stream events: `response.created`, then per output item `response.output_item.added`,
/// text as `response.content_part.added` / `response.output_text.delta` / `.done`, function calls as
/// `response.function_call_arguments.delta` / `.done`, each item's `response.output_item.done`, and
/// `response.completed` with the whole response and its usage.
struct ChatToResponsesStream: StreamTranslator {
    var usage = TokenUsage.zero
    var isComplete = false
    var streamedCharacters = 0
    let model: String
    private var id = "fairway"
    private var started = false
    private var sequence = 0
    private var output: [JSON] = []
    /// The item being streamed: text so far, or a function call (id, name, arguments so far) for an OpenAI index.
    private var text: String?
    private var call: (index: Int, id: String, name: String, arguments: String)?

    init(model: String) {
        self.model = model
    }

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
            if let delta = choice["delta"]?["content"]?.string, !delta.isEmpty {
                if text == nil {
                    out += closeItem()
                    text = ""
                    out.append(emit("response.output_item.added", ["output_index": index, "item": ChatToResponses.message(id: id, text: "", done: false)]))
                    out.append(emit("response.content_part.added", [
                        "item_id": .string("msg_" + id), "output_index": index, "content_index": 0,
                        "part": ["type": "output_text", "text": "", "annotations": []],
                    ]))
                }
                text? += delta
                streamedCharacters.saturatingAdd(delta.utf8.count)
                out.append(emit("response.output_text.delta", ["item_id": .string("msg_" + id), "output_index": index, "content_index": 0, "delta": .string(delta)]))
            }
            for toolCall in choice["delta"]?["tool_calls"]?.array ?? [] {
                let callIndex = toolCall["index"]?.int ?? 0
                if call?.index != callIndex {
                    out += closeItem()
                    let callID = toolCall["id"]?.string ?? "call_\(callIndex)"
                    let name = toolCall["function"]?["name"]?.string ?? ""
                    call = (callIndex, callID, name, "")
                    out.append(emit("response.output_item.added", ["output_index": index, "item": ChatToResponses.functionCall(callID: callID, name: name, arguments: "", done: false)]))
                }
                if let arguments = toolCall["function"]?["arguments"]?.string, !arguments.isEmpty, let current = call {
                    call?.arguments += arguments
                    streamedCharacters.saturatingAdd(arguments.utf8.count)
                    out.append(emit("response.function_call_arguments.delta", ["item_id": .string("fc_" + current.id), "output_index": index, "delta": .string(arguments)]))
                }
            }
        }
        return out
    }

    private var index: JSON { .integer(output.count) }

    private mutating func emit(_ type: String, _ fields: JSONObject) -> SSEEvent {
        var payload: JSONObject = ["type": .string(type), "sequence_number": .integer(sequence)]
        for (key, value) in fields { payload[key] = value }
        sequence += 1
        return SSEEvent(event: type, data: JSON.object(payload).text)
    }

    private mutating func start(_ chunk: JSON) -> [SSEEvent] {
        guard !started else { return [] }
        started = true
        id = chunk["id"]?.string ?? id
        let response = ChatToResponses.response(id: id, model: model, status: "in_progress", output: [], usage: nil)
        return [emit("response.created", ["response": response]), emit("response.in_progress", ["response": response])]
    }

    /// Finishes the item being streamed.
    private mutating func closeItem() -> [SSEEvent] {
        var out: [SSEEvent] = []
        if let done = text {
            let itemID = JSON.string("msg_" + id)
            out.append(emit("response.output_text.done", ["item_id": itemID, "output_index": index, "content_index": 0, "text": .string(done)]))
            out.append(emit("response.content_part.done", [
                "item_id": itemID, "output_index": index, "content_index": 0, "part": ["type": "output_text", "text": .string(done), "annotations": []],
            ]))
            let item = ChatToResponses.message(id: id, text: done, done: true)
            out.append(emit("response.output_item.done", ["output_index": index, "item": item]))
            output.append(item)
            text = nil
        }
        if let done = call {
            out.append(emit("response.function_call_arguments.done", ["item_id": .string("fc_" + done.id), "output_index": index, "arguments": .string(done.arguments)]))
            let item = ChatToResponses.functionCall(callID: done.id, name: done.name, arguments: done.arguments, done: true)
            out.append(emit("response.output_item.done", ["output_index": index, "item": item]))
            output.append(item)
            call = nil
        }
        return out
    }

    private mutating func finish() -> [SSEEvent] {
        guard !isComplete else { return [] }
        isComplete = true
        var out = start([:]) + closeItem()
        out.append(emit("response.completed", ["response": ChatToResponses.response(id: id, model: model, status: "completed", output: output, usage: usage)]))
        return out
    }
}

/// A native Responses stream, passed through; usage comes from `response.completed`, the text length from the deltas.
struct ResponsesPassthroughStream: StreamTranslator {
    var usage = TokenUsage.zero
    var isComplete = false
    var streamedCharacters = 0

    mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent] {
        guard let payload = try? JSONParser.parse(event.data) else { return [event] }
        switch payload["type"]?.string ?? event.event {
        case "response.output_text.delta", "response.function_call_arguments.delta":
            streamedCharacters.saturatingAdd(payload["delta"]?.string?.utf8.count ?? 0)
        case "response.completed", "response.incomplete":
            usage = ChatToResponses.usage(payload["response"]?["usage"])
            isComplete = true
        case "response.failed", "error":
            throw RelayError(
                status: .badGateway, type: "upstream_error",
                message: payload["response"]?["error"]?["message"]?.string ?? payload["message"]?.string ?? "upstream stream error"
            )
        default:
            break
        }
        return [event]
    }
}
