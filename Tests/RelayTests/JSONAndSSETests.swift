import Foundation
import NIOCore
import Testing

@testable import Relay

@Suite("JSON and SSE")
struct JSONAndSSETests {
    @Test func numbersAndUnknownFieldsRoundTripExactly() throws {
        let text = #"{"model":"m","temperature":0.7,"big":12345678901234567890,"exp":1E-7,"nested":{"a":[1,2.50,null,true]},"s":"é\n\"q\""}"#
        let parsed = try JSONParser.parse(text)
        #expect(parsed.text == text)
        var object = try #require(parsed.object)
        object["model"] = "upstream"
        #expect(JSON.object(object).text.hasPrefix(#"{"model":"upstream","temperature":0.7,"big":12345678901234567890"#))
    }

    @Test func escapesAndSurrogatesDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00 \u00e9""#) == .string("😀 é"))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "\"\\x\"", "{\"a\":1} x", "\"\\ud800\""])
    func malformedInputIsRejected(_ text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
    }

    /// `member` must read what a full parse reads: the last of a repeated name, an escaped name, nothing nested.
    @Test(arguments: [
        #"{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
        #"{"usage":1,"usage":{"a":[2,{"usage":3}]}}"#,
        #"{"us\u0061ge":{"x":"\ud83d\ude00"}, "b" : [ ] , "c":{}}"#,
        #"{"choices":[{"usage":5}],"x":"usage","y":-0.5e+3,"z":[true,false,null]}"#,
        #"[{"usage":1}]"#, #""usage""#, "{}", " { \"usage\" : null } ",
    ])
    func memberReadsWhatAFullParseReads(_ text: String) throws {
        let bytes = Array(text.utf8)
        #expect(try JSONParser.member("usage", of: bytes) == JSONParser.parse(bytes)["usage"])
        #expect(try JSONParser.member("absent", of: bytes) == nil)
    }

    /// A body `member` skips is still checked: whatever a full parse refuses, it refuses (`\#t` below is a raw tab, a
    /// control character inside a string).
    @Test(arguments: [
        #"{"a":[1,],"usage":{}}"#, #"{"a":"\x","usage":1}"#, #"{"a":01,"usage":1}"#, #"{"a":"\ud800","usage":1}"#,
        #"{"usage":1} x"#, #"{"a":{"b" 1},"usage":1}"#, #"{"a":"tab\#there","usage":1}"#, #"{"a":tru,"usage":1}"#,
        #"{"usage":1,}"#, "{\"a\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
        #"{"a":"unterminated}"#, "",
    ])
    func memberRefusesWhatAFullParseRefuses(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(bytes) }
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.member("usage", of: bytes) }
    }

    /// Over generated documents, every top-level name reads the same through `member` as through a full parse.
    @Test func memberAgreesWithAFullParseOnGeneratedDocuments() throws {
        var random = SplitMix(seed: 0x5EED)
        for _ in 0..<400 {
            let document = JSON.object(JSONObject((0..<random.below(6)).map { _ in (random.name(), random.value(depth: 0)) }))
            let bytes = Array(document.text.utf8)
            let parsed = try JSONParser.parse(bytes)
            for (name, _) in document.object?.members ?? [] {
                #expect(try JSONParser.member(name, of: bytes) == parsed[name])
            }
        }
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

        /// Few names, so repeats happen; one with a quote and one with a non-ASCII letter, so escaping is exercised.
        mutating func name() -> String { ["usage", "id", "a\"b", "é", "choices", "u"][below(6)] }

        mutating func value(depth: Int) -> JSON {
            switch below(depth > 3 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(below(2) == 0)
            case 2: return .number(["0", "-1.5", "12345678901234567890", "1e-7"][below(4)])
            case 3: return .string(["", "usage", "line\nbreak \u{1F600}", "\"}]"][below(4)])
            case 4: return .array((0..<below(4)).map { _ in value(depth: depth + 1) })
            default: return .object(JSONObject((0..<below(4)).map { _ in (name(), value(depth: depth + 1)) }))
            }
        }
    }

    @Test func sseDecoderHandlesSplitsLineEndingsCommentsAndMultilineData() throws {
        let stream = "event: a\r\ndata: one\r\n\r\n: comment\ndata: two\ndata: lines\n\ndata:{\"x\":1}\r\rdata: tail"
        let bytes = Array(stream.utf8)
        // Fed one byte at a time, the result is the same as fed whole.
        var whole = SSEDecoder()
        var expected = try whole.feed(bytes)
        expected += whole.finish()
        var split = SSEDecoder()
        var events: [SSEEvent] = []
        for byte in bytes { events += try split.feed([byte]) }
        events += split.finish()
        #expect(events == expected)
        #expect(events == [
            SSEEvent(event: "a", data: "one"),
            SSEEvent(data: "two\nlines"),
            SSEEvent(data: "{\"x\":1}"),
            SSEEvent(data: "tail"),
        ])
    }

    @Test func sseEncodingWritesADataLineForEachLineAndReadsBackTheSame() throws {
        let events = [
            SSEEvent(event: "message_start", data: "{\"a\":\"é\"}"), SSEEvent(data: "two\nlines\n"), SSEEvent(data: ""),
            SSEEvent(data: "[DONE]"),
        ]
        let wire = String(buffer: UpstreamStream.encode(events))
        #expect(wire == "event: message_start\ndata: {\"a\":\"é\"}\n\ndata: two\ndata: lines\ndata: \n\ndata: \n\ndata: [DONE]\n\n")
        #expect(SSEEvent.encode(data: "x\ny", event: "e") == "event: e\ndata: x\ndata: y\n\n")
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array(wire.utf8)) == events)
    }
}
