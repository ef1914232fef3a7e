import FairwayCore
import Foundation
import Testing

@Suite("PicoDollars and UUID text")
struct MoneyAndUUIDTextTests {
    @Test func picoDollarsRoundTripExactly() {
        let cases: [(String, Int64)] = [
            ("0", 0), ("1", 1_000_000_000_000), ("0.5", 500_000_000_000), ("0.000000000001", 1),
            ("12.000125", 12_000_125_000_000), ("9000000", 9_000_000_000_000_000_000),
        ]
        for (text, value) in cases {
            #expect(PicoDollars.parse(text) == value, "\(text)")
            #expect(PicoDollars.format(value) == text)
        }
        #expect(PicoDollars.parse("0.50") == 500_000_000_000)
        #expect(PicoDollars.parse(".5") == 500_000_000_000)
        for bad in ["", ".", "-1", "1e-6", "0.0000000000001", "1.2.3", "abc", "99999999999"] {
            #expect(PicoDollars.parse(bad) == nil, "\(bad)")
        }
        #expect(PicoDollars.decimal(1_250_000_000) == Decimal(string: "0.00125"))
    }

    @Test func uuidTextMatchesFoundation() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercaseText == id.uuidString.lowercased())
            #expect(UUID(text: id.uuidString) == id)
            #expect(UUID(text: id.lowercaseText) == id)
        }
        #expect(UUID(text: "not-a-uuid") == nil)
        #expect(UUID(text: "0b8f7a4e-6d3c-4e43-9c53-8f0d1f0f7a1g") == nil)
        #expect(UUID(text: "0b8f7a4e06d3c-4e43-9c53-8f0d1f0f7a11") == nil)
        let a = UUID(text: "00000000-0000-0000-0000-000000000001")!
        let b = UUID(text: "00000000-0000-0000-0000-000000000002")!
        #expect(UUID.byteOrder(a, b) && !UUID.byteOrder(b, a) && !UUID.byteOrder(a, a))
    }
}
