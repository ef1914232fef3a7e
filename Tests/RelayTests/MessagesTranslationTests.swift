import Foundation
import Testing

@testable import Relay

/// The pure translator pair between Anthropic Messages clients and OpenAI-compatible deployments.
@Suite("Messages translation")
struct MessagesTranslationTests {
    @Test func aMessagesRequestBecomesAChatRequest() throws {
        let request = try #require(try JSONParser.parse(#"""
            {"model":"m","max_tokens":50,"temperature":0.3,"top_k":5,"stop_sequences":["END"],"metadata":{"user_id":"u-7"},
             "system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],
             "tools":[{"name":"weather","description":"d","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"},
             "messages":[
               {"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA"}}]},
               {"role":"assistant","content":[{"type":"text","text":"checking"},{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}]},{"type":"text","text":"and?"}]}]}
            """#).object)
        let chat = try MessagesToChat.body(from: request, upstreamModel: "gpt-up", stream: true)
        #expect(chat["model"] == "gpt-up" && chat["max_tokens"] == .number("50") && chat["temperature"] == .number("0.3"))
        #expect(chat["top_k"] == nil && chat["stop"] == ["END"] && chat["user"] == "u-7")
        #expect(chat["tool_choice"] == "required")
        #expect(chat["tools"]?.array?.first?["function"]?["parameters"] == ["type": "object"])
        #expect(chat["stream_options"]?["include_usage"] == true)
        let messages = try #require(chat["messages"]?.array)
        #expect(messages.map { $0["role"]?.string } == ["system", "user", "assistant", "tool", "user"])
        #expect(messages[0]["content"] == "be brief")
        #expect(messages[1]["content"]?.array?.last?["image_url"]?["url"] == "data:image/png;base64,AAA")
        #expect(messages[2]["content"] == "checking")
        #expect(messages[2]["tool_calls"]?.array?.first?["function"]?["arguments"] == #"{"city":"Paris"}"#)
        #expect(messages[3]["tool_call_id"] == "toolu_1" && messages[3]["content"] == "sunny")
        #expect(messages[4]["content"] == "and?")
        #expect(throws: RelayError.self) {
            _ = try MessagesToChat.body(from: ["messages": [["role": "system", "content": "x"]]], upstreamModel: "m", stream: false)
        }
    }

    @Test func aChatCompletionBecomesAMessage() throws {
        let completion = #"{"id":"chatcmpl-1","model":"gpt-up","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":3}}}"#
        let (body, usage) = try ChatToMessages.message(from: Array(completion.utf8))
        #expect(usage == TokenUsage(promptTokens: 10, completionTokens: 4, cachedTokens: 3))
        let message = try JSONParser.parse(body)
        #expect(message["id"] == "msg_chatcmpl-1" && message["type"] == "message" && message["stop_reason"] == "tool_use")
        #expect(message["content"]?.array?.map { $0["type"]?.string } == ["text", "tool_use"])
        #expect(message["content"]?.array?.last?["input"] == ["city": "Paris"])
        #expect(message["usage"]?["input_tokens"] == .number("7") && message["usage"]?["cache_read_input_tokens"] == .number("3"))
        let error = try JSONParser.parse(ChatToMessages.error(status: 400, body: Array(#"{"error":{"message":"bad","type":"invalid_request_error"}}"#.utf8)))
        #expect(error["type"] == "error" && error["error"]?["type"] == "invalid_request_error" && error["error"]?["message"] == "bad")
    }

    @Test func chatChunksBecomeMessagesEvents() throws {
        var stream = ChatToMessagesStream()
        let chunks = [
            #"{"id":"c1","model":"gpt-up","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","function":{"name":"weather","arguments":""}}]}}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":1}"}}]}}]}"#,
            #"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            #"{"id":"c1","choices":[],"usage":{"prompt_tokens":6,"completion_tokens":3}}"#,
            "[DONE]",
        ]
        var events: [SSEEvent] = []
        for chunk in chunks { events += try stream.translate(SSEEvent(data: chunk)) }
        #expect(events.map(\.event) == [
            "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
        ])
        let payloads = events.map { try? JSONParser.parse($0.data) }
        #expect(payloads[5]?["content_block"]?["type"] == "tool_use" && payloads[5]?["index"] == .number("1"))
        #expect(payloads[6]?["delta"]?["partial_json"] == #"{"city":1}"#)
        #expect(payloads[8]?["delta"]?["stop_reason"] == "tool_use" && payloads[8]?["usage"]?["output_tokens"] == .number("3"))
        #expect(stream.isComplete && stream.usage == TokenUsage(promptTokens: 6, completionTokens: 3) && stream.streamedCharacters == 5 + 10)
    }
}
