import FairwayTestSupport
import Foundation

/// A seeded generator of request bodies a hostile tenant might send: random JSON, extreme numbers in every numeric
/// field, deep nesting, invalid UTF-8, NUL and control characters, 200 KB strings, wrong types and raw garbage —
/// mixed with valid requests (some streamed) so admission, the upstream and the event path are exercised too.
struct HostileBodies {
    var random: SeededGenerator
    let model: String

    init(seed: UInt64, model: String) {
        self.random = SeededGenerator(seed: seed)
        self.model = model
    }

    static let numericFields = [
        "max_tokens", "max_completion_tokens", "n", "top_logprobs", "logprobs", "best_of", "temperature", "top_p", "seed",
        "presence_penalty", "frequency_penalty",
    ]
    static let numbers = [
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e308", "-1e400", "1e-400", "0.5", "-0",
        "1.0e2", "123456789012345678901234567890", "-1", "0", "7", "2.5E+3", "100000001", "3",
    ]
    static let endpoints = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]

    mutating func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    /// The next (path, body bytes).
    mutating func next() -> (path: String, body: [UInt8]) {
        let path = pick(Self.endpoints)
        switch random.next() % 10 {
        case 0: return (path, randomJSON(depth: 0).utf8Bytes)
        case 1: return (path, deepNesting())
        case 2: return (path, invalidUTF8())
        case 3: return (path, garbage())
        case 4: return (path, Array(hugeStrings().utf8))
        case 5: return (path, Array(wrongTypes().utf8))
        case 6: return (path, Array(controlCharacters().utf8))
        default: return ("/v1/chat/completions", Array(extremeNumbers().utf8))
        }
    }

    func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    var messages: String { #""messages":[{"role":"user","content":"hello there"}],"prompt":"hi","input":"x""# }

    mutating func extremeNumbers() -> String {
        var fields = [#""model":\#(quoted(model))"#, messages]
        for field in Self.numericFields where chance(40) { fields.append("\(quoted(field)):\(pick(Self.numbers))") }
        if chance(20) { fields.append(#""stream":true"#) }
        if chance(10) { fields.append(#""stream":true,"stream_options":{"include_usage":\#(pick(["true", "5", "null"]))}"#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    mutating func deepNesting() -> [UInt8] {
        let depth = 30 + Int(random.next() % 200)
        let open = pick(["[", "{\"a\":"])
        let close = open == "[" ? "]" : "}"
        let inner = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
        return Array(#"{"model":\#(quoted(model)),\#(messages),"x":\#(inner)}"#.utf8)
    }

    mutating func invalidUTF8() -> [UInt8] {
        var bytes = Array(#"{"model":\#(quoted(model)),"messages":[{"role":"user","content":"ab"#.utf8)
        bytes += pick([[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF]])
        bytes += Array(#""}]}"#.utf8)
        return bytes
    }

    mutating func garbage() -> [UInt8] {
        (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    mutating func hugeStrings() -> String {
        let huge = String(repeating: pick(["a", "é", "😀", "\\u0000"]), count: 200_000 / 4)
        return pick([
            #"{"model":"\#(huge)",\#(messages)}"#,
            #"{"model":\#(quoted(model)),"messages":[{"role":"user","content":"\#(huge)"}]}"#,
            #"{"model":\#(quoted(model)),\#(messages),"user":"\#(huge)"}"#,
        ])
    }

    mutating func wrongTypes() -> String {
        let values = ["1", "true", "null", "[]", "{}", #""x""#, "[1,2]", #"{"a":"b"}"#]
        let field = pick(["model", "messages", "stream", "stream_options", "prompt", "input", "mock"])
        return #"{"model":\#(quoted(model)),\#(messages),"\#(field)":\#(pick(values))}"#
    }

    mutating func controlCharacters() -> String {
        let nasty = pick(["a\u{0}b", "\u{1b}[31mred", "line\nbreak", "\u{7f}", "tab\there", "\u{2028}", "\u{9f}x"])
        return pick([
            #"{"model":\#(quoted(nasty)),\#(messages)}"#,
            #"{"model":\#(quoted(model)),"messages":[{"role":\#(quoted(nasty)),"content":\#(quoted(nasty))}]}"#,
            "{\"model\":\"a\u{0}b\",\(messages)}",
        ])
    }

    mutating func randomJSON(depth: Int) -> JSONText {
        switch depth > 4 ? random.next() % 4 : random.next() % 7 {
        case 0: return JSONText(pick(Self.numbers))
        case 1: return JSONText(quoted(pick(["", "x", model, "\u{0}", "é"])))
        case 2: return JSONText(pick(["true", "false", "null"]))
        case 3: return JSONText("\"\(random.next())\"")
        case 4: return JSONText("[" + (0..<Int(random.next() % 4)).map { _ in randomJSON(depth: depth + 1).text }.joined(separator: ",") + "]")
        default:
            let keys = ["model", "messages", "stream", "max_tokens", "n", "role", "content", "x"]
            let members = (0..<Int(random.next() % 5)).map { _ in "\(quoted(pick(keys))):\(randomJSON(depth: depth + 1).text)" }
            return JSONText("{" + members.joined(separator: ",") + "}")
        }
    }

    struct JSONText {
        var text: String
        init(_ text: String) { self.text = text }
        var utf8Bytes: [UInt8] { Array(text.utf8) }
    }
}
