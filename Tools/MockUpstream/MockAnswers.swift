import Foundation
import Synchronization

/// Builds the mock's answers in the OpenAI and Anthropic wire formats.
struct MockAnswers: Sendable {
    static let toolArguments = "{\"city\":\"Paris\"}"
    private static let sequence = Atomic<Int>(0)

    let request: MockRequest
    let behavior: MockBehavior
    let id: Int

    init(request: MockRequest, behavior: MockBehavior) {
        self.request = request
        self.behavior = behavior
        self.id = Self.sequence.wrappingAdd(1, ordering: .relaxed).newValue
    }

    var created: Int { Int(Date().timeIntervalSince1970) }

    func token(_ index: Int) -> String { "tok\(index) " }

    var text: String { (0..<behavior.tokens).map(token).joined() }

    var completionTokens: Int { request.toolToCall == nil ? behavior.tokens : 5 }

    var openAIUsage: String {
        let prompt = request.promptTokens
        return "{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completionTokens),\"total_tokens\":\(prompt + completionTokens),\"prompt_tokens_details\":{\"cached_tokens\":\(behavior.cachedTokens)}}"
    }

    // MARK: OpenAI

    func chatCompletion() -> String {
        let message: String
        let finish: String
        if let tool = request.toolToCall {
            message = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_mock_\(id)\",\"type\":\"function\",\"function\":{\"name\":\(MockJSON.quote(tool)),\"arguments\":\(MockJSON.quote(Self.toolArguments))}}]}"
            finish = "tool_calls"
        } else {
            message = "{\"role\":\"assistant\",\"content\":\(MockJSON.quote(text))}"
            finish = "stop"
        }
        return "{\"id\":\"chatcmpl-mock-\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":\(MockJSON.quote(request.model)),\"choices\":[{\"index\":0,\"message\":\(message),\"logprobs\":null,\"finish_reason\":\"\(finish)\"}],\"usage\":\(openAIUsage)}"
    }

    /// The `data:` payloads of a streamed chat completion, without `[DONE]`.
    func chatChunks() -> [String] {
        let head = "{\"id\":\"chatcmpl-mock-\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(MockJSON.quote(request.model)),"
        var chunks = [head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"]
        let finish: String
        if let tool = request.toolToCall {
            chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_mock_\(id)\",\"type\":\"function\",\"function\":{\"name\":\(MockJSON.quote(tool)),\"arguments\":\"\"}}]},\"finish_reason\":null}]}")
            chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\(MockJSON.quote(Self.toolArguments))}}]},\"finish_reason\":null}]}")
            finish = "tool_calls"
        } else {
            for index in 0..<behavior.tokens {
                chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\(MockJSON.quote(token(index)))},\"finish_reason\":null}]}")
            }
            finish = "stop"
        }
        chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"\(finish)\"}]}")
        if request.includeUsage {
            chunks.append(head + "\"choices\":[],\"usage\":\(openAIUsage)}")
        }
        return chunks
    }

    func completion() -> String {
        "{\"id\":\"cmpl-mock-\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(MockJSON.quote(request.model)),\"choices\":[{\"text\":\(MockJSON.quote(text)),\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":\(openAIUsage)}"
    }

    func completionChunks() -> [String] {
        let head = "{\"id\":\"cmpl-mock-\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(MockJSON.quote(request.model)),"
        var chunks = (0..<behavior.tokens).map { index in
            head + "\"choices\":[{\"text\":\(MockJSON.quote(token(index))),\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}"
        }
        chunks.append(head + "\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]}")
        if request.includeUsage { chunks.append(head + "\"choices\":[],\"usage\":\(openAIUsage)}") }
        return chunks
    }

    func embeddings() -> String {
        let dimensions = 8
        let items = (0..<request.inputCount).map { index -> String in
            let vector = (0..<dimensions).map { Float(index + 1) / Float($0 + 2) }
            let embedding: String
            if request.encodingBase64 {
                var bytes: [UInt8] = []
                for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
                embedding = "\"" + Data(bytes).base64EncodedString() + "\""
            } else {
                embedding = "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
            }
            return "{\"object\":\"embedding\",\"index\":\(index),\"embedding\":\(embedding)}"
        }
        let prompt = request.promptTokens
        return "{\"object\":\"list\",\"data\":[\(items.joined(separator: ","))],\"model\":\(MockJSON.quote(request.model)),\"usage\":{\"prompt_tokens\":\(prompt),\"total_tokens\":\(prompt)}}"
    }

    static func models() -> String {
        "{\"object\":\"list\",\"data\":[{\"id\":\"mock-model\",\"object\":\"model\",\"created\":0,\"owned_by\":\"fairway-mock\"}]}"
    }

    static func openAIError(status: Int) -> String {
        "{\"error\":{\"message\":\"mock upstream forced status \(status)\",\"type\":\"\(status >= 500 ? "server_error" : "invalid_request_error")\",\"param\":null,\"code\":\"mock_\(status)\"}}"
    }

    // MARK: Anthropic

    var anthropicUsage: String {
        "{\"input_tokens\":\(request.promptTokens),\"output_tokens\":\(completionTokens),\"cache_read_input_tokens\":\(behavior.cachedTokens),\"cache_creation_input_tokens\":0}"
    }

    func message() -> String {
        let content: String
        let stop: String
        if let tool = request.toolToCall {
            content = "[{\"type\":\"tool_use\",\"id\":\"toolu_mock_\(id)\",\"name\":\(MockJSON.quote(tool)),\"input\":\(Self.toolArguments)}]"
            stop = "tool_use"
        } else {
            content = "[{\"type\":\"text\",\"text\":\(MockJSON.quote(text))}]"
            stop = "end_turn"
        }
        return "{\"id\":\"msg_mock_\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\(MockJSON.quote(request.model)),\"content\":\(content),\"stop_reason\":\"\(stop)\",\"stop_sequence\":null,\"usage\":\(anthropicUsage)}"
    }

    /// A `count_tokens` answer.
    func tokenCount() -> String {
        "{\"input_tokens\":\(request.promptTokens)}"
    }

    /// `(event, data)` pairs of a streamed Messages API answer.
    func messageEvents() -> [(String, String)] {
        var events: [(String, String)] = [(
            "message_start",
            "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock_\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\(MockJSON.quote(request.model)),\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":\(request.promptTokens),\"output_tokens\":1,\"cache_read_input_tokens\":\(behavior.cachedTokens),\"cache_creation_input_tokens\":0}}}"
        )]
        let stop: String
        if let tool = request.toolToCall {
            events.append(("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_mock_\(id)\",\"name\":\(MockJSON.quote(tool)),\"input\":{}}}"))
            events.append(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}"))
            events.append(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}"))
            stop = "tool_use"
        } else {
            events.append(("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"))
            events.append(("ping", "{\"type\":\"ping\"}"))
            for index in 0..<behavior.tokens {
                events.append(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\(MockJSON.quote(token(index)))}}"))
            }
            stop = "end_turn"
        }
        events.append(("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"))
        events.append(("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stop)\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":\(completionTokens)}}"))
        events.append(("message_stop", "{\"type\":\"message_stop\"}"))
        return events
    }

    static func anthropicError(status: Int, message: String? = nil) -> String {
        let type = switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        default: status >= 500 ? "api_error" : "invalid_request_error"
        }
        return "{\"type\":\"error\",\"error\":{\"type\":\"\(type)\",\"message\":\(MockJSON.quote(message ?? "mock upstream forced status \(status)"))}}"
    }
}
