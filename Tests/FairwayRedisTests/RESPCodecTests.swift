import NIOCore
import Testing

@testable import FairwayRedis

@Suite("RESP codec (hiredis)")
struct RESPCodecTests {
    @Test func commandsAreBinarySafe() {
        var buffer = ByteBuffer()
        RedisCommand("SET", "k", [UInt8]([0, 13, 10, 255]), "").encode(into: &buffer)
        let expected: [UInt8] = Array("*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + [0, 13, 10, 255]
            + Array("\r\n$0\r\n\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test func textCommandsEncodeLikeArgumentCommands() {
        let texts = ["fairway:requests", "MAXLEN", "~", "1000", "*", "model", "gpt-ü", "empty", ""]
        #expect(RedisCommand("XADD", texts: texts) == RedisCommand("XADD", texts.map { $0 as any RedisArgument }))
        let xadd = RedisClient.xaddCommand("s", fields: [("k", "v")], approximateMaxLength: 5)
        #expect(String(decoding: xadd.encoded, as: UTF8.self)
            == "*8\r\n$4\r\nXADD\r\n$1\r\ns\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n$1\r\n5\r\n$1\r\n*\r\n$1\r\nk\r\n$1\r\nv\r\n")
    }

    @Test func aScriptCallEncodesLikeTheSameArgumentsInOneList() {
        let keys = ["fairway:slots:{d}", "fairway:waiting:{d}"]
        let arguments: [any RedisArgument] = ["lease-1", 0, -5, 2.5, Array("raw".utf8)]
        let split = RedisCommand("EVALSHA", head: ["abc", keys.count], texts: keys, arguments: arguments)
        #expect(split == RedisCommand("EVALSHA", ["abc", keys.count] + keys + arguments))
        #expect(String(decoding: split.encoded.prefix(5), as: UTF8.self) == "*10\r\n")
    }

    @Test func numbersGoOutAsTheirDecimalText() {
        let numbers: [Int64] = [
            0, 7, 9, 10, 99, 100, 101, -1, -10, 1_000_000, 999_999_999_999_999_999, 1_000_000_000_000_000_000,
            9_223_372_036_854_775_807, -9_223_372_036_854_775_808,
        ]
        for number in numbers {
            #expect(number.redisBytes == Array(String(number).utf8))
            #expect(Int(number).redisBytes == Array(String(number).utf8))
        }
        #expect(0.1.redisBytes == Array("0.1".utf8))
        #expect(RedisCommand("INCRBY", "k", -42).encoded == Array("*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$3\r\n-42\r\n".utf8))
        let many = RedisCommand("DEL", (0..<12).map { "k\($0)" as any RedisArgument })
        #expect(String(decoding: many.encoded.prefix(5), as: UTF8.self) == "*13\r\n")
    }

    @Test func repliesAcrossPartialReads() throws {
        let decoder = RESPReplyDecoder()
        let wire = Array("*3\r\n:42\r\n$5\r\nhello\r\n*2\r\n+OK\r\n$-1\r\n-ERR nope\r\n".utf8)
        try decoder.feed(ByteBuffer(bytes: wire[..<7]))
        #expect(try decoder.next() == nil)
        try decoder.feed(ByteBuffer(bytes: wire[7...]))
        #expect(try decoder.next() == .array([
            .integer(42), .bulkString(Array("hello".utf8)), .array([.simpleString("OK"), .null]),
        ]))
        #expect(try decoder.next() == .error("ERR nope"))
        #expect(try decoder.next() == nil)
    }

    @Test func garbageIsAProtocolError() throws {
        let decoder = RESPReplyDecoder()
        try? decoder.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisError.self) { try decoder.next() }
    }

    @Test func urlParsing() throws {
        let configuration = try RedisConfiguration(url: "redis://user:pw@cache.internal:6380/3")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "user")
        #expect(configuration.password == "pw")
        #expect(configuration.database == 3)
        #expect(try RedisConfiguration(url: "redis://localhost").port == 6379)
        let tls = #expect(throws: (any Error).self) { try RedisConfiguration(url: "rediss://h") }
        #expect("\(String(describing: tls))".contains("REDIS_URL"))
        #expect(throws: (any Error).self) { try RedisConfiguration(url: "redis://h/99") }
    }
}
