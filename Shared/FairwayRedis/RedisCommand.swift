import NIOCore

/// A value that can be sent as one argument of a Redis command.
public protocol RedisArgument: Sendable {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgument {
    /// Shortest round-tripping decimal text, which Redis parses exactly (`HINCRBYFLOAT`, `ZADD`).
    public var redisBytes: [UInt8] { Array(description.utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
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
        Self.append(Array(name.utf8), to: &encoded)
        for argument in arguments { Self.append(argument.redisBytes, to: &encoded) }
        self.encoded = encoded
    }

    /// An XADD-shaped command whose arguments are all text, without boxing each one in an existential.
    public init(_ name: String, texts: [String]) {
        self.name = name
        var encoded: [UInt8] = []
        encoded.reserveCapacity(16 + texts.reduce(name.utf8.count) { $0 + $1.utf8.count + 8 })
        Self.appendHeader(0x2A, texts.count + 1, to: &encoded)
        Self.append(name.utf8, to: &encoded)
        for text in texts { Self.append(text.utf8, to: &encoded) }
        self.encoded = encoded
    }

    public static func == (lhs: RedisCommand, rhs: RedisCommand) -> Bool { lhs.encoded == rhs.encoded }

    private static func append<Bytes: Collection<UInt8>>(_ bytes: Bytes, to encoded: inout [UInt8]) {
        appendHeader(0x24, bytes.count, to: &encoded)
        encoded.append(contentsOf: bytes)
        encoded.append(0x0D)
        encoded.append(0x0A)
    }

    /// `*count\r\n` or `$length\r\n`.
    private static func appendHeader(_ marker: UInt8, _ count: Int, to encoded: inout [UInt8]) {
        encoded.append(marker)
        encoded.append(contentsOf: String(count).utf8)
        encoded.append(0x0D)
        encoded.append(0x0A)
    }

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(encoded)
    }
}
