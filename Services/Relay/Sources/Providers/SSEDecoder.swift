import NIOCore

/// One server-sent event.
public struct SSEEvent: Sendable, Equatable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }

    /// The wire form the relay sends to clients.
    public static func encode(data: String, event: String? = nil) -> String {
        var buffer = ByteBuffer()
        SSEEvent(event: event, data: data).write(to: &buffer)
        return String(buffer: buffer)
    }

    /// Appends the wire form: `event:` when named, a `data:` line for each line of the data, a blank line. Split on
    /// bytes: a split of the data by `Character` was most of a stream's encoding cost.
    public func write(to buffer: inout ByteBuffer) {
        if let event {
            buffer.writeStaticString("event: ")
            buffer.writeString(event)
            buffer.writeStaticString("\n")
        }
        var utf8 = data.utf8[...]
        while true {
            buffer.writeStaticString("data: ")
            guard let newline = utf8.firstIndex(of: UInt8(ascii: "\n")) else {
                buffer.writeBytes(utf8)
                break
            }
            buffer.writeBytes(utf8[..<newline])
            buffer.writeStaticString("\n")
            utf8 = utf8[utf8.index(after: newline)...]
        }
        buffer.writeStaticString("\n\n")
    }
}

/// Incremental `text/event-stream` parser: feed it bytes as they arrive (split anywhere, even inside a line or a
/// UTF-8 sequence) and it returns the events completed so far. Handles `\n`, `\r\n` and `\r` line ends, comments and
/// multi-line `data`.
public struct SSEDecoder: Sendable {
    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var eventName: String?
    private var sawCarriageReturn = false
    /// A line longer than this is a protocol error rather than a reason to grow without bound.
    public let maximumLineLength: Int

    public struct LineTooLong: Error {}

    public init(maximumLineLength: Int = 16 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            if sawCarriageReturn {
                sawCarriageReturn = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A:
                endLine(into: &events)
            case 0x0D:
                sawCarriageReturn = true
                endLine(into: &events)
            default:
                line.append(byte)
                if line.count > maximumLineLength { throw LineTooLong() }
            }
        }
        return events
    }

    /// Events still pending when the stream ends without a final blank line.
    public mutating func finish() -> [SSEEvent] {
        var events: [SSEEvent] = []
        if !line.isEmpty { endLine(into: &events) }
        if !dataLines.isEmpty { dispatch(into: &events) }
        return events
    }

    private mutating func endLine(into events: inout [SSEEvent]) {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var valueStart = colon.map { $0 + 1 } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = String(decoding: line[valueStart...], as: UTF8.self)
        switch field {
        case "data": dataLines.append(value)
        case "event": eventName = value
        default: break
        }
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        defer {
            dataLines.removeAll()
            eventName = nil
        }
        guard !dataLines.isEmpty else { return }
        events.append(SSEEvent(event: eventName, data: dataLines.joined(separator: "\n")))
    }
}
