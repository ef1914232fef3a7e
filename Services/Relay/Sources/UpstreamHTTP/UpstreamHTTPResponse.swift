import NIOCore
import NIOHTTP1

/// An upstream's response head, and its body still arriving.
struct UpstreamHTTPResponse: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: UpstreamResponseBody
}

/// The body of an upstream response, read once: whole (``collect(upTo:)``) or as it arrives (``next()``, which hands
/// over everything received since the last call in one buffer). Dropping it unread closes a connection whose
/// response is still arriving; a body read to its end has already given its connection back.
final class UpstreamResponseBody: Sendable {
    private let exchange: UpstreamExchange

    init(exchange: UpstreamExchange) {
        self.exchange = exchange
    }

    deinit { exchange.readerLeft() }

    /// The whole body; ``UpstreamHTTPError/responseTooLarge(limit:)`` once it grows past `limit` bytes.
    func collect(upTo limit: Int) async throws -> ByteBuffer { try await exchange.collect(upTo: limit) }

    /// What arrived since the last call (waiting for something when nothing did), or nil at the end.
    func next() async throws -> ByteBuffer? { try await exchange.next() }

    /// Fails reads with `error` from `deadline` on unless the body ended; a later call moves the deadline.
    func fail(at deadline: NIODeadline, with error: UpstreamHTTPError) { exchange.failBody(at: deadline, with: error) }

    /// Stops reading from any task: a read in progress fails with ``UpstreamHTTPError/cancelled``, and a body still
    /// arriving closes its connection.
    func cancel() { exchange.cancel() }
}
