import FairwayCore

/// Anthropic Messages request → OpenAI Chat Completions request, for a Messages client on an OpenAI-compatible
/// deployment (DESIGN §12). Pure: system prompt (string or blocks), text and image blocks, `tool_use` /
/// `tool_result`, tools and `tool_choice`, `stop_sequences`, sampling parameters and `metadata.user_id`.
enum MessagesToChat {
    static func body(from messages: JSONObject, upstreamModel: String, stream: Bool) throws(RelayError) -> JSONObject {
        var chat: [JSON] = []
        if let system = messages["system"], !system.isNull {
            chat.append(["role": "system", "content": .string(text(of: system))])
        }
        for (position, message) in (messages["messages"]?.array ?? []).enumerated() {
            chat += try translate(message, at: position)
        }
        var body: JSONObject = ["model": .string(upstreamModel), "messages": .array(chat)]
        if let maxTokens = messages["max_tokens"] { body["max_tokens"] = maxTokens }
        for name in ["temperature", "top_p"] { if let value = messages[name] { body[name] = value } }
        if let stops = messages["stop_sequences"] { body["stop"] = stops }
        if let user = messages["metadata"]?["user_id"], user.string != nil { body["user"] = user }
        if let tools = messages["tools"]?.array { body["tools"] = .array(tools.map(tool)) }
        if let choice = messages["tool_choice"], let translated = toolChoice(choice) { body["tool_choice"] = translated }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return body
    }

    /// One Anthropic message → one or more chat messages (tool results become `tool` messages of their own).
    static func translate(_ message: JSON, at position: Int) throws(RelayError) -> [JSON] {
        guard let role = message["role"]?.string, role == "user" || role == "assistant" else {
            throw .invalidRequest("messages[\(position)].role must be 'user' or 'assistant'.", param: "messages[\(position)].role")
        }
        guard case .array(let blocks)? = message["content"] else {
            return [["role": .string(role), "content": message["content"] ?? ""]]
        }
        var out: [JSON] = []
        var parts: [JSON] = []
        var toolCalls: [JSON] = []
        for block in blocks {
            switch block["type"]?.string {
            case "text":
                parts.append(["type": "text", "text": .string(block["text"]?.string ?? "")])
            case "image":
                if let url = imageURL(block["source"]) { parts.append(["type": "image_url", "image_url": ["url": .string(url)]]) }
            case "tool_use":
                toolCalls.append([
                    "id": .string(block["id"]?.string ?? ""), "type": "function",
                    "function": ["name": .string(block["name"]?.string ?? ""), "arguments": .string((block["input"] ?? [:]).text)],
                ])
            case "tool_result":
                out.append(["role": "tool", "tool_call_id": .string(block["tool_use_id"]?.string ?? ""), "content": .string(text(of: block["content"]))])
            default:
                break
            }
        }
        if role == "assistant" {
            let content: JSON = parts.isEmpty ? .null : .string(parts.compactMap { $0["text"]?.string }.joined())
            var assistant: JSONObject = ["role": "assistant", "content": content]
            if !toolCalls.isEmpty { assistant["tool_calls"] = .array(toolCalls) }
            if !parts.isEmpty || !toolCalls.isEmpty { out.append(.object(assistant)) }
        } else if !parts.isEmpty {
            let onlyText = parts.allSatisfy { $0["type"]?.string == "text" }
            let content: JSON = onlyText ? .string(parts.compactMap { $0["text"]?.string }.joined(separator: "\n")) : .array(parts)
            out.append(["role": "user", "content": content])
        }
        return out
    }

    /// A system prompt or tool result as plain text: a string, or the text of its blocks.
    static func text(of value: JSON?) -> String {
        switch value {
        case .string(let text)?: text
        case .array(let blocks)?: blocks.compactMap { $0["text"]?.string }.joined(separator: "\n")
        default: ""
        }
    }

    static func imageURL(_ source: JSON?) -> String? {
        switch source?["type"]?.string {
        case "base64":
            guard let media = source?["media_type"]?.string, let data = source?["data"]?.string else { return nil }
            return "data:\(media);base64,\(data)"
        case "url":
            return source?["url"]?.string
        default:
            return nil
        }
    }

    static func tool(_ tool: JSON) -> JSON {
        var function: JSONObject = ["name": .string(tool["name"]?.string ?? "")]
        if let description = tool["description"] { function["description"] = description }
        function["parameters"] = tool["input_schema"] ?? ["type": "object"]
        return ["type": "function", "function": .object(function)]
    }

    static func toolChoice(_ choice: JSON) -> JSON? {
        switch choice["type"]?.string {
        case "auto": "auto"
        case "any": "required"
        case "none": "none"
        case "tool": ["type": "function", "function": ["name": .string(choice["name"]?.string ?? "")]]
        default: nil
        }
    }
}
