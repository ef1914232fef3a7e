import Foundation

/// The little JSON the mock writes by hand: answers are built as text so the mock stays a cheap baseline.
enum MockJSON {
    static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// What the mock read from a request body that shapes its answer.
struct MockRequest {
    var model: String
    var stream: Bool
    var includeUsage: Bool
    var promptCharacters: Int
    /// The first tool's name when the request offers tools and the conversation has no tool result yet.
    var toolToCall: String?
    var inputCount: Int
    var encodingBase64: Bool

    init(_ body: [String: Any]) {
        model = body["model"] as? String ?? "mock-model"
        stream = body["stream"] as? Bool ?? false
        includeUsage = ((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
        var characters = 0
        var sawToolResult = false
        func count(_ value: Any?) {
            switch value {
            case let text as String: characters += text.count
            case let array as [Any]: array.forEach(count)
            case let object as [String: Any]:
                if object["type"] as? String == "tool_result" || object["type"] as? String == "function_call_output" { sawToolResult = true }
                count(object["text"]); count(object["content"])
            default: break
            }
        }
        for message in body["messages"] as? [[String: Any]] ?? [] {
            if message["role"] as? String == "tool" { sawToolResult = true }
            count(message["content"])
        }
        count(body["system"])
        count(body["prompt"])
        count(body["input"])
        count(body["instructions"])
        if let items = body["input"] as? [[String: Any]], items.contains(where: { $0["type"] as? String == "function_call_output" }) {
            sawToolResult = true
        }
        promptCharacters = characters
        if !sawToolResult, let tools = body["tools"] as? [[String: Any]], let first = tools.first {
            toolToCall = ((first["function"] as? [String: Any])?["name"] as? String) ?? (first["name"] as? String)
        }
        switch body["input"] {
        case let array as [Any]: inputCount = max(array.count, 1)
        default: inputCount = 1
        }
        encodingBase64 = body["encoding_format"] as? String == "base64"
    }

    var promptTokens: Int { max(1, promptCharacters / 4) }
}
