import FairwayCore
import Foundation

/// OpenAI Responses request → Chat Completions request, for a Responses client (Codex, the Agents SDK) on a deployment
/// that does not serve `/responses` itself — and through chat, on Anthropic. Pure. What a translation cannot honour —
/// state kept upstream (`previous_response_id`, `store: true`) — is a 400 naming the field.
enum ResponsesToChat {
    static func body(from request: JSONObject, upstreamModel: String, stream: Bool) throws(RelayError) -> JSONObject {
        if let previous = request["previous_response_id"], !previous.isNull {
            throw .invalidRequest(
                "previous_response_id is not supported for this model: it does not keep responses. Send the whole conversation in 'input'.",
                param: "previous_response_id", code: "unsupported_parameter"
            )
        }
        if request["store"] == .bool(true) {
            throw .invalidRequest("store: true is not supported for this model; send store: false.", param: "store", code: "unsupported_parameter")
        }
        var messages: [JSON] = []
        if let instructions = request["instructions"]?.string { messages.append(["role": "system", "content": .string(instructions)]) }
        switch request["input"] {
        case .string(let text)?: messages.append(["role": "user", "content": .string(text)])
        case .array(let items)?:
            for (position, item) in items.enumerated() { messages += try translate(item, at: position) }
        default: break
        }
        var body: JSONObject = ["model": .string(upstreamModel), "messages": .array(merged(messages))]
        if let limit = request["max_output_tokens"] { body["max_tokens"] = limit }
        for name in ["temperature", "top_p", "user", "parallel_tool_calls"] { if let value = request[name] { body[name] = value } }
        if let tools = request["tools"]?.array {
            var translated: [JSON] = []
            for (position, tool) in tools.enumerated() { translated.append(try translate(tool: tool, at: position)) }
            body["tools"] = .array(translated)
        }
        if let choice = request["tool_choice"] { body["tool_choice"] = toolChoice(choice) }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return body
    }

    static func translate(_ item: JSON, at position: Int) throws(RelayError) -> [JSON] {
        switch item["type"]?.string {
        case "function_call":
            return [[
                "role": "assistant", "content": nil,
                "tool_calls": [[
                    "id": .string(item["call_id"]?.string ?? ""), "type": "function",
                    "function": ["name": .string(item["name"]?.string ?? ""), "arguments": .string(item["arguments"]?.string ?? "{}")],
                ]],
            ]]
        case "function_call_output":
            let output = item["output"]?.string ?? item["output"].map(\.text) ?? ""
            return [["role": "tool", "tool_call_id": .string(item["call_id"]?.string ?? ""), "content": .string(output)]]
        case "reasoning":
            return []
        case "message", nil:
            guard let role = item["role"]?.string, ["user", "assistant", "system", "developer"].contains(role) else {
                throw .invalidRequest("input[\(position)] must be a message with a role, or a function call item.", param: "input[\(position)]")
            }
            return [["role": .string(role == "developer" ? "system" : role), "content": content(item["content"])]]
        default:
            throw .invalidRequest("input[\(position)] has a type this model cannot take: \(item["type"]?.string ?? "").", param: "input[\(position)].type")
        }
    }

    /// Message content: a string, or parts (`input_text`/`output_text` → text, `input_image` → image_url).
    static func content(_ value: JSON?) -> JSON {
        guard case .array(let parts)? = value else { return value ?? "" }
        var out: [JSON] = []
        for part in parts {
            switch part["type"]?.string {
            case "input_text", "output_text", "text": out.append(["type": "text", "text": .string(part["text"]?.string ?? "")])
            case "input_image":
                if let url = part["image_url"]?.string { out.append(["type": "image_url", "image_url": ["url": .string(url)]]) }
            default: break
            }
        }
        if out.allSatisfy({ $0["type"]?.string == "text" }) { return .string(out.compactMap { $0["text"]?.string }.joined()) }
        return .array(out)
    }

    /// Consecutive assistant tool calls (one input item each) become one assistant message, as chat expects.
    static func merged(_ messages: [JSON]) -> [JSON] {
        var out: [JSON] = []
        for message in messages {
            if let calls = message["tool_calls"]?.array, message["content"] == .null, let last = out.last,
               last["role"] == "assistant", let previous = last["tool_calls"]?.array, last["content"] == .null {
                out[out.count - 1] = ["role": "assistant", "content": nil, "tool_calls": .array(previous + calls)]
            } else {
                out.append(message)
            }
        }
        return out
    }

    static func translate(tool: JSON, at position: Int) throws(RelayError) -> JSON {
        guard tool["type"]?.string == "function" else {
            throw .invalidRequest("tools[\(position)]: only function tools can be used with this model.", param: "tools[\(position)].type")
        }
        var function: JSONObject = ["name": .string(tool["name"]?.string ?? "")]
        if let description = tool["description"] { function["description"] = description }
        function["parameters"] = tool["parameters"] ?? ["type": "object"]
        return ["type": "function", "function": .object(function)]
    }

    static func toolChoice(_ choice: JSON) -> JSON {
        if choice["type"]?.string == "function" { return ["type": "function", "function": ["name": .string(choice["name"]?.string ?? "")]] }
        return choice
    }
}
