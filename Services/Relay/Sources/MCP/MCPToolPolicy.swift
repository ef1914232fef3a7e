import FairwayCore

/// A server's tool allow-list applied to JSON-RPC traffic (DESIGN §8.1). Pure.
///
/// A client message calling a tool not on the list is answered with a JSON-RPC error and never forwarded (a batch
/// with such a call is refused whole: fail closed). Every answer carrying a `tools` list — JSON, or an event in a
/// stream — is cut down to the allowed tools.
struct MCPToolPolicy: Sendable {
    let allowed: Set<String>

    /// JSON-RPC's "invalid params": the tool is not one the caller may use.
    static let refusedCode = -32602

    /// Nil when the message may go on; otherwise the JSON-RPC answer to send back instead.
    func refusal(of body: [UInt8]) -> [UInt8]? {
        guard let message = try? JSONParser.parse(body) else { return nil }
        let messages = message.array ?? [message]
        let refused = messages.compactMap { item -> String? in
            guard item["method"]?.string == "tools/call" else { return nil }
            let name = item["params"]?["name"]?.string ?? ""
            return allowed.contains(name) ? nil : name
        }
        guard let tool = refused.first else { return nil }
        let errors: [JSON] = messages.compactMap { item in
            guard let id = item["id"] else { return nil }
            return [
                "jsonrpc": "2.0", "id": id,
                "error": ["code": .integer(Self.refusedCode), "message": .string("The tool '\(tool)' is not allowed through this gateway.")],
            ]
        }
        if message.array != nil { return JSON.array(errors).bytes }
        return (errors.first ?? ["jsonrpc": "2.0", "id": .null, "error": ["code": .integer(Self.refusedCode), "message": "Tool not allowed."]]).bytes
    }

    /// The message with any `result.tools` list filtered; nil when there is nothing to change.
    func filtered(_ text: some StringProtocol) -> String? {
        guard text.contains("\"tools\""), let message = try? JSONParser.parse(String(text)) else { return nil }
        var changed = false
        let output: JSON
        if let batch = message.array {
            output = .array(batch.map { filter($0, changed: &changed) })
        } else {
            output = filter(message, changed: &changed)
        }
        return changed ? output.text : nil
    }

    private func filter(_ message: JSON, changed: inout Bool) -> JSON {
        guard var object = message.object, var result = object["result"]?.object, let tools = result["tools"]?.array else { return message }
        let kept = tools.filter { allowed.contains($0["name"]?.string ?? "") }
        guard kept.count != tools.count else { return message }
        changed = true
        result["tools"] = .array(kept)
        object["result"] = .object(result)
        return .object(object)
    }
}

/// Filters an event stream's `tools` answers as bytes pass, keeping every other byte — `id:` lines included, which
/// `Last-Event-ID` resumption depends on — exactly as the server sent it. Events are released whole, so a client
/// never sees half an event either way.
struct MCPEventFilter: Sendable {
    let policy: MCPToolPolicy
    private var pending: [UInt8] = []

    init(policy: MCPToolPolicy) {
        self.policy = policy
    }

    /// What may go to the client now.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var out: [UInt8] = []
        while let end = Self.eventEnd(in: pending) {
            out += rewrite(Array(pending[..<end]))
            pending.removeFirst(end)
        }
        return out
    }

    /// The rest, when the stream ended.
    mutating func finish() -> [UInt8] {
        defer { pending = [] }
        return rewrite(pending)
    }

    /// The index just past the first blank line (`\n\n` or `\r\n\r\n`).
    static func eventEnd(in bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A && bytes[index + 1] == 0x0A { return index + 2 }
            if index + 3 < bytes.count, bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D, bytes[index + 3] == 0x0A {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    private func rewrite(_ event: [UInt8]) -> [UInt8] {
        let text = String(decoding: event, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        let data = lines.filter { $0.hasPrefix("data:") }.map { line in
            let value = line.dropFirst(5)
            return value.hasPrefix(" ") ? value.dropFirst() : value
        }.joined(separator: "\n")
        guard !data.isEmpty, let replaced = policy.filtered(data) else { return event }
        var rebuilt = lines.filter { !$0.hasPrefix("data:") && !$0.isEmpty }.map { String($0) + "\n" }.joined()
        rebuilt += "data: " + replaced + "\n\n"
        return Array(rebuilt.utf8)
    }
}
