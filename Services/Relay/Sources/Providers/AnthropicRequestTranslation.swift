/// OpenAI chat-completions request → Anthropic Messages request.
///
/// System messages become the top-level `system`; assistant `tool_calls` become `tool_use` blocks; `tool` messages
/// become `tool_result` blocks in a user turn; consecutive turns of one role are merged, since Anthropic requires
/// alternation. OpenAI-only fields Anthropic would reject are not sent.
enum AnthropicRequestTranslation {
    static func messagesBody(from body: JSONObject, upstreamModel: String, stream: Bool) throws(RelayError) -> JSONObject {
        var result: JSONObject = ["model": .string(upstreamModel)]
        guard let messages = body["messages"]?.array else {
            throw .invalidRequest("'messages' must be an array.", param: "messages")
        }
        var system: [String] = []
        var turns: [(role: String, blocks: [JSON])] = []
        func append(_ role: String, _ blocks: [JSON]) {
            guard !blocks.isEmpty else { return }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        for (position, message) in messages.enumerated() {
            guard let role = message["role"]?.string else {
                throw .invalidRequest("messages[\(position)].role is required.", param: "messages[\(position)].role")
            }
            switch role {
            case "system", "developer":
                system.append(text(of: message["content"]))
            case "user":
                append("user", try contentBlocks(message["content"], position: position))
            case "assistant":
                var blocks = try contentBlocks(message["content"], position: position)
                for call in message["tool_calls"]?.array ?? [] {
                    let arguments = call["function"]?["arguments"]?.string ?? "{}"
                    let input = (try? JSONParser.parse(arguments)).flatMap { $0.object != nil ? $0 : nil } ?? [:]
                    blocks.append([
                        "type": "tool_use",
                        "id": .string(call["id"]?.string ?? "call_\(position)"),
                        "name": .string(call["function"]?["name"]?.string ?? ""),
                        "input": input,
                    ])
                }
                append("assistant", blocks)
            case "tool", "function":
                append("user", [[
                    "type": "tool_result",
                    "tool_use_id": .string(message["tool_call_id"]?.string ?? ""),
                    "content": .string(text(of: message["content"])),
                ]])
            default:
                throw .invalidRequest("messages[\(position)].role '\(role)' is not supported.", param: "messages[\(position)].role")
            }
        }
        if !system.isEmpty { result["system"] = .string(system.joined(separator: "\n\n")) }
        result["messages"] = .array(turns.map { turn in ["role": .string(turn.role), "content": .array(turn.blocks)] })
        result["max_tokens"] = body["max_completion_tokens"] ?? body["max_tokens"] ?? .integer(AnthropicProvider.defaultMaxTokens)
        for name in ["temperature", "top_p", "top_k"] {
            if let value = body[name], !value.isNull { result[name] = value }
        }
        switch body["stop"] {
        case .string(let stop): result["stop_sequences"] = [.string(stop)]
        case .array(let stops): result["stop_sequences"] = .array(stops)
        default: break
        }
        if let tools = body["tools"]?.array, !tools.isEmpty {
            result["tools"] = .array(tools.compactMap { tool -> JSON? in
                guard let function = tool["function"]?.object, let name = function["name"]?.string else { return nil }
                var translated: JSONObject = ["name": .string(name), "input_schema": function["parameters"] ?? ["type": "object"]]
                if let description = function["description"]?.string { translated["description"] = .string(description) }
                return .object(translated)
            })
            switch body["tool_choice"] {
            case .string("required"): result["tool_choice"] = ["type": "any"]
            case .string("none"): result["tool_choice"] = ["type": "none"]
            case .object(let choice):
                if let name = choice["function"]?["name"]?.string { result["tool_choice"] = ["type": "tool", "name": .string(name)] }
            default: break
            }
        }
        if let user = body["user"]?.string { result["metadata"] = ["user_id": .string(user)] }
        if stream { result["stream"] = true }
        return result
    }

    static func text(of content: JSON?) -> String {
        switch content {
        case .string(let text): return text
        case .array(let parts): return parts.compactMap { $0["text"]?.string }.joined(separator: "\n")
        default: return ""
        }
    }

    static func contentBlocks(_ content: JSON?, position: Int) throws(RelayError) -> [JSON] {
        switch content {
        case .none, .null: return []
        case .string(let text): return text.isEmpty ? [] : [["type": "text", "text": .string(text)]]
        case .array(let parts):
            var blocks: [JSON] = []
            for part in parts {
                switch part["type"]?.string {
                case "text":
                    blocks.append(["type": "text", "text": .string(part["text"]?.string ?? "")])
                case "image_url":
                    guard let url = part["image_url"]?["url"]?.string ?? part["image_url"]?.string else {
                        throw .invalidRequest("An image_url part needs a url.", param: "messages[\(position)].content")
                    }
                    blocks.append(image(url))
                default:
                    throw .invalidRequest("Content part type '\(part["type"]?.string ?? "?")' is not supported for this model.", param: "messages[\(position)].content")
                }
            }
            return blocks
        default:
            throw .invalidRequest("messages[\(position)].content must be a string or an array.", param: "messages[\(position)].content")
        }
    }

    /// `data:image/png;base64,…` → a base64 source; anything else → a URL source.
    static func image(_ url: String) -> JSON {
        if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
            let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
            let mediaType = header.split(separator: ";").first.map(String.init) ?? "image/png"
            return ["type": "image", "source": ["type": "base64", "media_type": .string(mediaType), "data": .string(String(url[url.index(after: comma)...]))]]
        }
        return ["type": "image", "source": ["type": "url", "url": .string(url)]]
    }
}
