import Foundation
import Relay
import Testing

@Suite("Provider translation")
struct ProviderTranslationTests {
    let deployment = Deployment(id: UUID(), modelName: "claude", provider: .anthropic, upstreamModel: "claude-up", apiBase: "https://api.anthropic.com", apiKey: "sk-ant")

    @Test func chatRequestBecomesAMessagesRequest() throws {
        let text = """
            {"model":"claude","max_tokens":100,"temperature":0.2,"stop":"END","user":"u1",
             "messages":[{"role":"system","content":"be brief"},{"role":"user","content":"weather?"},
                         {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                         {"role":"tool","tool_call_id":"call_1","content":"sunny"}],
             "tools":[{"type":"function","function":{"name":"weather","description":"d","parameters":{"type":"object"}}}],
             "tool_choice":"required","stream":true}
            """
        let parsed = try ParsedRequest(endpoint: .chatCompletions, bytes: Array(text.utf8), defaultMaxTokens: 100)
        let request = try AnthropicProvider().makeRequest(parsed, deployment: deployment)
        #expect(request.url == "https://api.anthropic.com/v1/messages")
        #expect(request.headers.contains { $0 == ("x-api-key", "sk-ant") })
        #expect(request.headers.contains { $0 == ("anthropic-version", AnthropicProvider.apiVersion) })
        let sent = try JSONParser.parse(request.body)
        #expect(sent["model"] == "claude-up")
        #expect(sent["system"] == "be brief")
        #expect(sent["max_tokens"] == .number("100"))
        #expect(sent["temperature"] == .number("0.2"))
        #expect(sent["stop_sequences"] == ["END"])
        #expect(sent["stream"] == true)
        #expect(sent["tool_choice"] == ["type": "any"])
        #expect(sent["tools"]?.array?.first?["input_schema"] == ["type": "object"])
        let messages = try #require(sent["messages"]?.array)
        #expect(messages.map { $0["role"]?.string } == ["user", "assistant", "user"])
        #expect(messages[1]["content"]?.array?.first?["type"] == "tool_use")
        #expect(messages[1]["content"]?.array?.first?["input"] == ["city": "Paris"])
        #expect(messages[2]["content"]?.array?.first?["type"] == "tool_result")
        #expect(messages[2]["content"]?.array?.first?["tool_use_id"] == "call_1")
    }

    @Test func messageAnswerBecomesAChatCompletionWithCacheTokens() throws {
        let answer = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"Hi"},{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":4,"cache_creation_input_tokens":2}}"#
        let (body, usage) = try AnthropicProvider().translateResponse(endpoint: .chatCompletions, deployment: deployment, body: Array(answer.utf8))
        #expect(usage == TokenUsage(promptTokens: 16, completionTokens: 5, cachedTokens: 4, cacheWriteTokens: 2))
        let completion = try JSONParser.parse(body)
        let choice = try #require(completion["choices"]?.array?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == "Hi")
        #expect(choice["message"]?["tool_calls"]?.array?.first?["function"]?["arguments"] == #"{"city":"Paris"}"#)
        #expect(completion["usage"]?["prompt_tokens_details"]?["cached_tokens"] == .number("4"))
    }

    @Test func streamEventsBecomeChunksEndingInUsageAndDone() throws {
        var translator = AnthropicProvider().makeStreamTranslator(endpoint: .chatCompletions, deployment: deployment, clientWantsUsage: true)
        let events: [SSEEvent] = [
            SSEEvent(event: "message_start", data: #"{"type":"message_start","message":{"id":"msg_1","model":"claude-up","usage":{"input_tokens":7,"output_tokens":1,"cache_read_input_tokens":3}}}"#),
            SSEEvent(event: "content_block_start", data: #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            SSEEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#),
            SSEEvent(event: "content_block_start", data: #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{}}}"#),
            SSEEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#),
            SSEEvent(event: "message_delta", data: #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#),
            SSEEvent(event: "message_stop", data: #"{"type":"message_stop"}"#),
        ]
        var payloads: [String] = []
        for event in events { payloads += try translator.translate(event).map(\.data) }
        #expect(translator.isComplete)
        #expect(translator.usage == TokenUsage(promptTokens: 10, completionTokens: 9, cachedTokens: 3))
        #expect(payloads.last == "[DONE]")
        let chunks = payloads.dropLast().map { try? JSONParser.parse($0) }
        #expect(chunks[0]?["choices"]?.array?.first?["delta"]?["role"] == "assistant")
        #expect(chunks[1]?["choices"]?.array?.first?["delta"]?["content"] == "Hel")
        #expect(chunks[2]?["choices"]?.array?.first?["delta"]?["tool_calls"]?.array?.first?["id"] == "toolu_1")
        #expect(chunks[3]?["choices"]?.array?.first?["delta"]?["tool_calls"]?.array?.first?["function"]?["arguments"] == #"{"city":"#)
        #expect(chunks[4]?["choices"]?.array?.first?["finish_reason"] == "tool_calls")
        #expect(chunks[5]?["usage"]?["completion_tokens"] == .number("9"))
    }

    @Test func openAIStreamsDropTheUsageChunkTheClientDidNotAskFor() throws {
        var translator = OpenAIProvider().makeStreamTranslator(endpoint: .chatCompletions, deployment: deployment, clientWantsUsage: false)
        let content = #"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#
        let usage = #"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#
        #expect(try translator.translate(SSEEvent(data: content)).map(\.data) == [content])
        #expect(try translator.translate(SSEEvent(data: usage)).isEmpty)
        #expect(try translator.translate(SSEEvent(data: "[DONE]")).map(\.data) == ["[DONE]"])
        #expect(translator.usage == TokenUsage(promptTokens: 3, completionTokens: 2))
        #expect(translator.isComplete)
    }

    @Test func requestValidationNamesTheParameter() {
        func param(_ text: String, _ endpoint: RelayEndpoint = .chatCompletions) -> String? {
            do {
                _ = try ParsedRequest(endpoint: endpoint, bytes: Array(text.utf8), defaultMaxTokens: 100)
                return "ok"
            } catch {
                return error.param ?? error.code
            }
        }
        #expect(param(#"{"messages":[{"role":"user","content":"x"}]}"#) == "model")
        #expect(param(#"{"model":"m"}"#) == "messages")
        #expect(param(#"{"model":"m","messages":"x"}"#) == "messages")
        #expect(param(#"{"model":"m","messages":[{"role":"user"}],"stream":"yes"}"#) == "stream")
        #expect(param(#"{"model":"m","input":"x","stream":true}"#, .embeddings) == "stream")
        #expect(param(#"{"model":"m","prompt":"x"}"#, .completions) == "ok")
        #expect(param("[]") == "invalid_json")
    }
}
