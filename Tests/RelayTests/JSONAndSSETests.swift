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
