import FairwayCore
import Foundation
import Testing

@testable import Relay

@Suite("Response cache: keys, replay, assembly")
struct ResponseCacheTests {
    static let tenant = UUID()

    static func route(generation: Int64 = 0, enabled: Bool = true) -> Route {
        var deployment = Deployment(id: UUID(uuidString: "00000000-0000-0000-0000-00000000000a") ?? UUID(), modelName: "m", provider: .openai, upstreamModel: "up", apiBase: "http://x/v1")
        deployment.cache = CacheSettings(enabled: enabled, ttlSeconds: 60, generation: generation)
        return Route(requestedName: "m", groupName: nil, strategy: .priority, candidates: [.init(deployment: deployment, priority: 0)])
    }

    static func plan(_ body: String, endpoint: RelayEndpoint = .chatCompletions, tenant: UUID = tenant, route: Route = route(), cacheControl: String? = nil) throws -> CachePlan? {
        let parsed = try ParsedRequest(endpoint: endpoint, bytes: Array(body.utf8), defaultMaxTokens: 100)
        return CachePlan(endpoint: endpoint, parsed: parsed, route: route, tenant: tenant, cacheControl: cacheControl)
    }

    @Test func theKeyIgnoresDeliveryAndIdentityButNotWhatChangesTheAnswer() throws {
        let base = try #require(try Self.plan(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#))
        // Member order, whitespace, stream, stream_options, user and metadata do not change the key.
        let same = try Self.plan(#"{ "temperature": 0.2, "user": "bob", "stream": true, "stream_options": {"include_usage": true}, "metadata": {"a": "b"}, "messages": [ {"content": "hi", "role": "user"} ], "model": "m" }"#)
        #expect(same?.key == base.key)
        #expect(same?.wantsUsage == true && base.wantsUsage == false)
        for changed in [
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.3}"#,
            #"{"model":"m","messages":[{"role":"user","content":"hi!"}],"temperature":0.2}"#,
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"seed":1}"#,
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"tools":[]}"#,
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"max_tokens":5}"#,
        ] {
            #expect(try Self.plan(changed)?.key != base.key, "\(changed)")
        }
        let body = #"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#
        #expect(try Self.plan(body, tenant: UUID())?.key != base.key, "another tenant, another entry")
        #expect(try Self.plan(body, route: Self.route(generation: 1))?.key != base.key, "a changed model, a new generation")
        #expect(base.key.hasPrefix("fw:{ten:\(Self.tenant.lowercaseText)}:cache:"))
        #expect(try Self.plan(body, route: Self.route(enabled: false)) == nil)
        #expect(try Self.plan(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#, endpoint: .countTokens) == nil)
    }

    @Test func cacheControlSkipsTheReadOrTheWrite() throws {
        let body = #"{"model":"m","prompt":"hi"}"#
        let noCache = try #require(try Self.plan(body, endpoint: .completions, cacheControl: "No-Cache"))
        #expect(!noCache.read && noCache.write)
        let noStore = try #require(try Self.plan(body, endpoint: .completions, cacheControl: "max-age=0, no-store"))
        #expect(noStore.read && !noStore.write)
    }

    static func roundTrip(_ endpoint: RelayEndpoint, _ text: String, wantsUsage: Bool = true) throws -> (events: [SSEEvent], assembled: JSON) {
        let body = try JSONParser.parse(text)
        let events = try #require(StreamReplay.events(endpoint: endpoint, body: body, wantsUsage: wantsUsage))
        var assembler = StreamAssembler(endpoint: endpoint, limit: 1 << 20)
        assembler.add(events)
        let bytes = try #require(assembler.answer(usage: .zero))
        return (events, try JSONParser.parse(bytes))
    }

    @Test func aChatAnswerReplaysAsChunksAndAssemblesBack() throws {
        let text = #"{"id":"c1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"},{"index":1,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#
        let (events, assembled) = try Self.roundTrip(.chatCompletions, text)
        #expect(events.last?.data == "[DONE]")
        #expect(events.dropLast().allSatisfy { (try? JSONParser.parse($0.data))?["object"]?.string == "chat.completion.chunk" })
        #expect(assembled == (try JSONParser.parse(text)))
        let withoutUsage = try #require(StreamReplay.events(endpoint: .chatCompletions, body: try JSONParser.parse(text), wantsUsage: false))
        #expect(withoutUsage.count == events.count - 1)
    }

    @Test func completionsMessagesAndResponsesReplayAndAssembleBack() throws {
        let completion = #"{"id":"t1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"abc","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#
        #expect(try Self.roundTrip(.completions, completion).assembled == (try JSONParser.parse(completion)))

        let message = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Hi"},{"type":"tool_use","id":"tu_1","name":"f","input":{"q":"x","n":[1,2]}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":9}}"#
        let (events, assembled) = try Self.roundTrip(.messages, message)
        #expect(events.map { $0.event ?? "" } == [
            "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop",
        ])
        #expect(assembled == (try JSONParser.parse(message)))

        let response = #"{"id":"resp_1","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hey","annotations":[]}]},{"type":"function_call","id":"fc_1","call_id":"c1","name":"f","arguments":"{}","status":"completed"}],"usage":{"input_tokens":1,"output_tokens":2}}"#
        let replayed = try Self.roundTrip(.responses, response)
        #expect(replayed.assembled == (try JSONParser.parse(response)))
        #expect(replayed.events.first?.event == "response.created" && replayed.events.last?.event == "response.completed")
    }

    @Test func anIncompleteOrOversizedStreamIsNotCached() throws {
        let text = #"{"id":"c1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}]}"#
        let events = try #require(StreamReplay.events(endpoint: .chatCompletions, body: try JSONParser.parse(text), wantsUsage: false))
        var cut = StreamAssembler(endpoint: .chatCompletions, limit: 1 << 20)
        cut.add(Array(events.prefix(1)))
        #expect(cut.answer(usage: .zero) == nil, "no finish reason yet")
        var small = StreamAssembler(endpoint: .chatCompletions, limit: 40)
        small.add(events)
        #expect(small.answer(usage: .zero) == nil)
        var garbage = StreamAssembler(endpoint: .chatCompletions, limit: 1 << 20)
        garbage.add([SSEEvent(data: "not json")] + events)
        #expect(garbage.answer(usage: .zero) == nil)
        var message = StreamAssembler(endpoint: .messages, limit: 1 << 20)
        message.add([SSEEvent(event: "message_start", data: #"{"type":"message_start","message":{"id":"m","content":[]}}"#)])
        #expect(message.answer(usage: .zero) == nil, "no message_stop")
    }
}
