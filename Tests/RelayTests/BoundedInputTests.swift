import FairwayCore
import Foundation
import Testing

@testable import Relay

/// Every client or upstream number is bounded before arithmetic; every client string is checked before it reaches an
/// event or a label.
@Suite("Bounded input")
struct BoundedInputTests {
    static func refusal(_ text: String, _ endpoint: RelayEndpoint = .chatCompletions) -> RelayError? {
        do {
            _ = try ParsedRequest(endpoint: endpoint, bytes: Array(text.utf8), defaultMaxTokens: 100)
            return nil
        } catch {
            return error
        }
    }

    static let messages = #""messages":[{"role":"user","content":"abcd"}]"#

    @Test func hugeNegativeAndFractionalCountsAre400sNamingTheField() {
        for value in ["9223372036854775807", "9223372036854775808", "-1", "1.5", "1e400", "-1e400", "\"10\"", "true", "100000001"] {
            for field in ["max_tokens", "max_completion_tokens"] {
                let error = Self.refusal(#"{"model":"m",\#(Self.messages),"\#(field)":\#(value)}"#)
                #expect(error?.status == .badRequest && error?.param == field, "\(field)=\(value): \(String(describing: error))")
            }
        }
        for (field, value) in [("n", "0"), ("n", "129"), ("n", "1e30"), ("top_logprobs", "21"), ("top_logprobs", "-3")] {
            #expect(Self.refusal(#"{"model":"m",\#(Self.messages),"\#(field)":\#(value)}"#)?.param == field, "\(field)=\(value)")
        }
        #expect(Self.refusal(#"{"model":"m","prompt":"x","logprobs":6}"#, .completions)?.param == "logprobs")
        // Whole numbers in any spelling are fine, and so is null.
        for value in ["16", "1.6e1", "16.0", "null", "100000000"] {
            #expect(Self.refusal(#"{"model":"m",\#(Self.messages),"max_tokens":\#(value)}"#) == nil, "max_tokens=\(value)")
        }
    }

    @Test func theEstimateStaysBoundedWhateverIsAsked() throws {
        let parsed = try ParsedRequest(
            endpoint: .chatCompletions, bytes: Array(#"{"model":"m",\#(Self.messages),"max_tokens":100000000,"n":128}"#.utf8), defaultMaxTokens: 100
        )
        #expect(parsed.estimatedTokens == 1 + 100_000_000 * 128)
        #expect(parsed.promptTokenEstimate == 1)
    }

    @Test func modelNamesAreCheckedBeforeUse() {
        let bad = [#""a\u0000b""#, #""a\nb""#, #""\u009f""#, #""\u2028""#, "\"\(String(repeating: "x", count: 257))\"", #""""#, "5", "null"]
        for name in bad {
            let error = Self.refusal(#"{"model":\#(name),\#(Self.messages)}"#)
            #expect(error?.status == .badRequest && error?.param == "model", "\(name.prefix(40))")
        }
        #expect(Self.refusal(#"{"model":"\#(String(repeating: "é", count: 128))",\#(Self.messages)}"#) == nil, "256 bytes is allowed")
        #expect(RequestBounds.loggableName(.string("a\u{0}b")) == nil)
        #expect(RequestBounds.loggableName(.string("gpt-4o")) == "gpt-4o")
    }

    @Test func deepNestingAndInvalidUTF8Are400s() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(Self.refusal(#"{"model":"m",\#(Self.messages),"x":\#(deep)}"#)?.code == "invalid_json")
        let shallow = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(Self.refusal(#"{"model":"m",\#(Self.messages),"x":\#(shallow)}"#) == nil)
        var bytes = Array(#"{"model":"m","messages":[{"role":"user","content":"ab"#.utf8)
        bytes += [0xC3, 0x28] + Array(#""}]}"#.utf8)
        #expect(throws: RelayError.self) { try ParsedRequest(endpoint: .chatCompletions, bytes: bytes, defaultMaxTokens: 1) }
        #expect(throws: RelayError.self) { try ParsedRequest(endpoint: .chatCompletions, bytes: [0xFF, 0xFE, 0x7B], defaultMaxTokens: 1) }
    }

    @Test func openAIBodiesGoUpstreamAsTheClientWroteThem() throws {
        func upstream(_ text: String) throws -> String {
            let parsed = try ParsedRequest(endpoint: .chatCompletions, bytes: Array(text.utf8), defaultMaxTokens: 10)
            return String(decoding: OpenAIProvider.sameFormatBody(parsed, model: "up"), as: UTF8.self)
        }
        #expect(try upstream(#"{ "model" : "m", "temperature": 0.70, "messages": [{"role":"user","content":"é"}] }"#)
            == #"{ "model" : "up", "temperature": 0.70, "messages": [{"role":"user","content":"é"}] }"#)
        #expect(try upstream(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
            == #"{"model":"up","stream":true,"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#)
        let rewritten = try JSONParser.parse(try upstream(#"{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"x"}]}"#))
        #expect(rewritten["stream_options"] == ["include_usage": true, "x": 1] && rewritten["model"] == "up")
    }

    @Test func aMemberGivenTwiceIsRefused() {
        let error = Self.refusal(#"{"model":"internal-expensive","model":"m",\#(Self.messages)}"#)
        #expect(error?.status == .badRequest && error?.code == "duplicate_member" && error?.param == "model")
        // Nested objects may repeat names across levels: only the top level decides routing.
        #expect(Self.refusal(#"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}"#) == nil)
    }

    @Test func wholeNumbersNeverTrap() {
        #expect(JSON.number("12").wholeNumber == .exact(12))
        #expect(JSON.number("1.2e1").wholeNumber == .exact(12))
        #expect(JSON.number("1.25").wholeNumber == .notWhole)
        #expect(JSON.number("99999999999999999999").wholeNumber == .tooLarge(negative: false))
        #expect(JSON.number("-1e400").wholeNumber == .tooLarge(negative: true))
        #expect(JSON.string("12").wholeNumber == .notWhole)
        #expect(JSON.number("1e400").clamped(to: 0...10) == 10)
        #expect(JSON.number("-7").clamped(to: 0...10) == 0)
    }

    @Test func upstreamUsageIsClampedNotTrusted() throws {
        let huge = #"{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1e300,"prompt_tokens_details":{"cached_tokens":-5}}}"#
        let usage = try #require(TokenUsage(openAI: try JSONParser.parse(huge)["usage"]))
        #expect(usage.promptTokens == TokenUsage.maximumPerField && usage.completionTokens == TokenUsage.maximumPerField)
        #expect(usage.cachedTokens == 0)
        #expect(usage.totalTokens == 2 * TokenUsage.maximumPerField)
        let anthropic = AnthropicProvider.usage(try JSONParser.parse(
            #"{"input_tokens":9223372036854775807,"cache_read_input_tokens":9223372036854775807,"cache_creation_input_tokens":9223372036854775807,"output_tokens":3}"#
        ))
        #expect(anthropic.promptTokens == TokenUsage.maximumPerField && anthropic.completionTokens == 3)
        let deployment = Deployment.sample(inputPico: 1_000_000, outputPico: 3_000_000)
        // Clamped counts keep even the cost in range: 2^40 × (1 + 3) µ$ is below Int64.max.
        #expect(deployment.costPicoUSD(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens) == (1 << 40) * 4_000_000)
        #expect(deployment.costPicoUSD(promptTokens: .max, completionTokens: 1) == .max, "and beyond that it saturates")
    }

    @Test func anAbandonedStreamIsBilledAtLeastItsEstimate() {
        let nothing = TokenUsage.zero
        let estimated = TokenUsage.billable(reported: nothing, complete: false, promptEstimate: 12, streamedCharacters: 41)
        #expect(estimated == TokenUsage(promptTokens: 12, completionTokens: 11))
        // Anthropic reports the prompt at the start; the completion is estimated from what was streamed.
        let partial = TokenUsage.billable(reported: TokenUsage(promptTokens: 30, completionTokens: 1), complete: false, promptEstimate: 12, streamedCharacters: 400)
        #expect(partial == TokenUsage(promptTokens: 30, completionTokens: 100))
        let reported = TokenUsage(promptTokens: 30, completionTokens: 7)
        #expect(TokenUsage.billable(reported: reported, complete: true, promptEstimate: 12, streamedCharacters: 400) == reported)
        // A complete stream from a server that reports no usage still pays its estimate.
        #expect(TokenUsage.billable(reported: nothing, complete: true, promptEstimate: 5, streamedCharacters: 8) == TokenUsage(promptTokens: 5, completionTokens: 2))
    }

    @Test func streamTranslatorsCountWhatTheyPassOn() throws {
        var openAI = OpenAIProvider.Translator(clientWantsUsage: false)
        _ = try openAI.translate(SSEEvent(data: #"{"choices":[{"index":0,"delta":{"content":"héllo"}}]}"#))
        _ = try openAI.translate(SSEEvent(data: #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}"#))
        #expect(openAI.streamedCharacters == 6 + 7)
        var anthropic = AnthropicStreamTranslator(clientWantsUsage: false)
        _ = try anthropic.translate(SSEEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"abc"}}"#))
        #expect(anthropic.streamedCharacters == 3)
    }

    @Test func upstreamErrorTypesReachEventsOnlyAsPlainLabels() {
        #expect(UpstreamCall.label("invalid_request_error") == "invalid_request_error")
        #expect(UpstreamCall.label("a\u{0}b") == nil)
        #expect(UpstreamCall.label(String(repeating: "x", count: 65)) == nil)
        #expect(UpstreamCall.label("Robert'); DROP TABLE") == nil)
        #expect(UpstreamCall.summary(of: Array(#"{"error":{"message":"bad\u0000thing\nhere"}}"#.utf8)) == "bad thing here")
    }

    @Test func unknownKeysCannotEvictKnownOnes() {
        var cache = KeyCache(capacity: 10, negativeCapacity: 5, positiveTTL: .seconds(60), negativeTTL: .seconds(5))
        let now = ContinuousClock.now
        let keys = (0..<10).map { _ in StoredKey(id: UUID(), tenantID: UUID()) }
        for (index, key) in keys.enumerated() { cache.store(hash: "known-\(index)", key: key, now: now) }
        for index in 0..<100_000 { cache.store(hash: "random-\(index)", key: nil, now: now) }
        for (index, key) in keys.enumerated() { #expect(cache.lookup(hash: "known-\(index)", now: now) == .fresh(key)) }
        #expect(cache.lookup(hash: "random-99999", now: now) == .fresh(nil))
        #expect(cache.lookup(hash: "random-0", now: now) == .miss)
        #expect(cache.count == 15)
    }
}

extension Deployment {
    static func sample(inputPico: Int64, outputPico: Int64) -> Deployment {
        Deployment(
            id: UUID(), modelName: "m", provider: .openai, upstreamModel: "m", apiBase: "http://127.0.0.1:1/v1", apiKey: nil,
            inputPicoUSDPerToken: inputPico, outputPicoUSDPerToken: outputPico
        )
    }
}
