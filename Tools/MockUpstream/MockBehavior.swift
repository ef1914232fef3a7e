import Foundation

/// What the mock does with one request: the start-up defaults, overridden per deployment by a `/k/<knobs>/` path
/// prefix (`/k/status=500,latency_ms=20/v1/chat/completions`) and per request by `x-mock-*` headers or a `"mock"`
/// object in the JSON body (which an SDK sends through `extra_body`).
struct MockBehavior: Sendable, Equatable {
    /// Delay before the response head, in milliseconds.
    var latencyMS: Int = 0
    /// Delay before the first streamed chunk after the head, in milliseconds.
    var ttftMS: Int = 0
    /// Streaming pace; 0 sends every token at once.
    var tokensPerSecond: Double = 0
    /// Completion tokens in the answer.
    var tokens: Int = 8
    /// A forced HTTP status (with an error body in the provider's format); nil answers normally.
    var status: Int?
    /// After this many streamed chunks the connection is cut without finishing the stream.
    var dropAfterChunks: Int?
    /// Cached prompt tokens reported in usage.
    var cachedTokens: Int = 0

    init() {}

    /// Applies `name=value` knobs; unknown names are reported so a typo in a test is loud.
    mutating func apply(_ knobs: [(String, String)]) throws(MockKnobError) {
        for (name, value) in knobs {
            func int() throws(MockKnobError) -> Int {
                guard let number = Int(value), number >= 0 else { throw MockKnobError(knob: name, value: value) }
                return number
            }
            switch name {
            case "latency_ms", "latency": latencyMS = try int()
            case "ttft_ms", "ttft": ttftMS = try int()
            case "tokens_per_second", "tps":
                guard let rate = Double(value), rate >= 0 else { throw MockKnobError(knob: name, value: value) }
                tokensPerSecond = rate
            case "tokens": tokens = try int()
            case "status": status = try int()
            case "drop_after", "drop_after_chunks": dropAfterChunks = try int()
            case "cached_tokens": cachedTokens = try int()
            default: throw MockKnobError(knob: name, value: value)
            }
        }
    }

    /// `a=1,b=2` → pairs.
    static func parseKnobList(_ text: Substring) -> [(String, String)] {
        text.split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// The gap between streamed tokens.
    var tokenInterval: Duration? {
        tokensPerSecond > 0 ? .microseconds(Int64(1_000_000 / tokensPerSecond)) : nil
    }
}

struct MockKnobError: Error, CustomStringConvertible {
    var knob: String
    var value: String
    var description: String { "unknown mock knob or bad value: \(knob)=\(value)" }
}
