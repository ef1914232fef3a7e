import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Writes a response straight onto its connection, with no async writer between the route and the channel.
///
/// An answer whose length is known (one buffer: every non-streamed relay answer) is flushed once, at its end, so head,
/// body and end leave in one `writev`. A streamed answer flushes each write and waits for the socket to take it (the
/// stream's back-pressure on a slow client). Flushes wait for the end of the loop's pass (``FlushCoalescer``).
struct ChannelResponseWriter {
    let channel: any Channel

    func write(_ response: Response) async throws {
        channel.write(HTTPResponsePart.head(response.head), promise: nil)
        let writer = ChannelBodyWriter(channel: channel, flushesEachWrite: response.body.contentLength == nil)
        try await response.body.write(writer)
    }
}

/// The body half of ``ChannelResponseWriter``.
struct ChannelBodyWriter: ResponseBodyWriter {
    let channel: any Channel
    let flushesEachWrite: Bool

    mutating func write(_ buffer: ByteBuffer) async throws {
        if flushesEachWrite {
            try await flush(HTTPResponsePart.body(buffer))
        } else {
            channel.write(HTTPResponsePart.body(buffer), promise: nil)
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await flush(HTTPResponsePart.end(trailingHeaders))
    }

    /// Writes `part` and waits until the loop's flush at the end of this pass (``FlushCoalescer``) has written it.
    private func flush(_ part: HTTPResponsePart) async throws {
        let written = channel.write(part)
        FlushCoalescer.flush(channel)
        try await written.get()
    }
}
