import NIOCore

/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    /// Appends the argument as a RESP bulk string (`$len\r\n` + bytes + `\r\n`), with no copy of its own on the way.
    func appendRESP(to encoded: inout [UInt8])
}

extension RedisArgument {
    /// The argument's bytes as Redis receives them.
    public var redisBytes: [UInt8] {
        var encoded: [UInt8] = []
        appendRESP(to: &encoded)
        guard let start = encoded.firstIndex(of: 0x0A) else { return [] }
        return Array(encoded[(start + 1)..<(encoded.count - 2)])
    }
}

extension String: RedisArgument {
    public func appendRESP(to encoded: inout [UInt8]) { RedisCommand.appendBulk(utf8, to: &encoded) }
}

extension Substring: RedisArgument {
    public func appendRESP(to encoded: inout [UInt8]) { RedisCommand.appendBulk(utf8, to: &encoded) }
}

extension Int: RedisArgument {
    public func appendRESP(to encoded: inout [UInt8]) { RedisCommand.appendBulk(decimal: Int64(self), to: &encoded) }
}

extension Int64: RedisArgument {
    public func appendRESP(to encoded: inout [UInt8]) { RedisCommand.appendBulk(decimal: self, to: &encoded) }
}

extension Double: RedisArgument {
    /// Shortest round-tripping decimal text, which Redis parses exactly (`HINCRBYFLOAT`, `ZADD`).
    public func appendRESP(to encoded: inout [UInt8]) { RedisCommand.appendBulk(description.utf8, to: &encoded) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRESP(to encoded: inout [UInt8]) { RedisCommand.appendBulk(self, to: &encoded) }
}

/// One Redis command, held as its RESP encoding (`*N` then `$len` + bytes per argument): built once where the
/// command is made, written to the socket as is. Binary-safe; hiredis parses the replies.
public struct RedisCommand: Sendable, Equatable {
    /// The command's RESP bytes.
    public private(set) var encoded: [UInt8]
    public let name: String

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    public init(_ name: String, _ arguments: [any RedisArgument]) {
        self.name = name
        var encoded: [UInt8] = []
        encoded.reserveCapacity(16 + name.utf8.count + arguments.count * 24)
        Self.appendHeader(0x2A, arguments.count + 1, to: &encoded)
        Self.appendBulk(name.utf8, to: &encoded)
        for argument in arguments { argument.appendRESP(to: &encoded) }
        self.encoded = encoded
    }

    /// An XADD-shaped command whose arguments are all text, without boxing each one in an existential.
    public init(_ name: String, texts: [String]) {
        self.name = name
        var encoded: [UInt8] = []
        encoded.reserveCapacity(16 + texts.reduce(name.utf8.count) { $0 + $1.utf8.count + 8 })
        Self.appendHeader(0x2A, texts.count + 1, to: &encoded)
        Self.appendBulk(name.utf8, to: &encoded)
        for text in texts { Self.appendBulk(text.utf8, to: &encoded) }
        self.encoded = encoded
    }

    /// A command whose arguments are a head (`EVALSHA sha numkeys`), some text and then any arguments, encoded
    /// without first gathering them into one array of existentials.
    init(_ name: String, head: [any RedisArgument], texts: [String], arguments: [any RedisArgument]) {
        self.name = name
        var encoded: [UInt8] = []
        encoded.reserveCapacity(32 + texts.reduce(name.utf8.count) { $0 + $1.utf8.count + 8 } + arguments.count * 24)
        Self.appendHeader(0x2A, 1 + head.count + texts.count + arguments.count, to: &encoded)
        Self.appendBulk(name.utf8, to: &encoded)
        for argument in head { argument.appendRESP(to: &encoded) }
        for text in texts { Self.appendBulk(text.utf8, to: &encoded) }
        for argument in arguments { argument.appendRESP(to: &encoded) }
        self.encoded = encoded
    }

    public static func == (lhs: RedisCommand, rhs: RedisCommand) -> Bool { lhs.encoded == rhs.encoded }

    /// `$length\r\n` + bytes + `\r\n`.
    static func appendBulk<Bytes: Collection<UInt8>>(_ bytes: Bytes, to encoded: inout [UInt8]) {
        appendHeader(0x24, bytes.count, to: &encoded)
        encoded.append(contentsOf: bytes)
        encoded.append(0x0D)
        encoded.append(0x0A)
    }

    /// A whole number as a bulk string, its digits written in place.
    static func appendBulk(decimal value: Int64, to encoded: inout [UInt8]) {
        var (rest, digits) = (value.magnitude, 1)
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let length = digits + (value < 0 ? 1 : 0)
        appendHeader(0x24, length, to: &encoded)
        appendDecimal(value, to: &encoded)
        encoded.append(0x0D)
        encoded.append(0x0A)
    }

    /// `*count\r\n` or `$length\r\n`.
    private static func appendHeader(_ marker: UInt8, _ count: Int, to encoded: inout [UInt8]) {
        encoded.append(marker)
        appendDecimal(Int64(count), to: &encoded)
        encoded.append(0x0D)
        encoded.append(0x0A)
    }

    /// Most significant digit first, so nothing is reversed afterwards.
    private static func appendDecimal(_ value: Int64, to encoded: inout [UInt8]) {
        if value < 0 { encoded.append(0x2D) }
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            encoded.append(0x30 + UInt8((magnitude / divisor) % 10))
            divisor /= 10
        } while divisor > 0
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(encoded)
    }
}
