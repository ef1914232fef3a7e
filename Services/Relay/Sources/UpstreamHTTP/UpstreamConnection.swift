import NIOCore
import NIOHTTP1
import Synchronization

/// One HTTP/1.1 connection to an upstream origin, carrying one request at a time and pooled between them.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    let origin: UpstreamOrigin
    private let handler: NIOLoopBound<UpstreamConnectionHandler>
    private let pool: UpstreamConnectionPool
    /// When it was last handed back to the pool, for the idle sweep.
    private let idleSince = Mutex(NIODeadline.now())

    init(channel: any Channel, origin: UpstreamOrigin, handler: NIOLoopBound<UpstreamConnectionHandler>, pool: UpstreamConnectionPool) {
        self.channel = channel
        self.origin = origin
        self.handler = handler
        self.pool = pool
    }

    /// Sends a request whose response `exchange` receives: head, body and end leave in one flush (one `writev`), with
    /// the loop's other flushes of this pass (``FlushCoalescer``).
    func send(_ head: HTTPRequestHead, body: ByteBuffer, to exchange: UpstreamExchange) {
        if channel.eventLoop.inEventLoop {
            handler.value.send(head, body: body, to: exchange)
        } else {
            let handler = handler
            channel.eventLoop.execute { handler.value.send(head, body: body, to: exchange) }
        }
    }

    func release() {
        idleSince.withLock { $0 = .now() }
        pool.release(self)
    }

    func close() { channel.close(promise: nil) }

    /// Reading was paused for a slow reader; `read` passes the handler, which lets it through now.
    func resumeReading() { channel.read() }

    func idle(since deadline: NIODeadline) -> Bool { idleSince.withLock { $0 < deadline } }
}

/// The last handler of an upstream connection's pipeline: hands the decoded response to the current exchange, and holds
/// back reads while that exchange's reader is behind.
final class UpstreamConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var exchange: UpstreamExchange?
    private var keepAlive = true

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(_ head: HTTPRequestHead, body: ByteBuffer, to exchange: UpstreamExchange) {
        guard let context, context.channel.isActive else {
            exchange.failed(.connectionClosed("the connection was closed before the request was sent"))
            return
        }
        self.exchange = exchange
        keepAlive = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil))).whenFailure { error in
            exchange.failed(.connectionClosed("the request could not be sent: \(error)"))
        }
        FlushCoalescer.flush(context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            // Bytes nobody asked for: the connection is out of step with its requests.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard head.status.code >= 200 else {
                self.exchange = nil
                exchange.failed(.protocolViolation("answered with status \(head.status.code)"))
                return
            }
            keepAlive = head.isKeepAlive
            exchange.receivedHead(head)
        case .body(let chunk):
            exchange.receivedBody(chunk)
        case .end:
            self.exchange = nil
            exchange.receivedEnd(keepAlive: keepAlive)
        }
    }

    func read(context: ChannelHandlerContext) {
        if let exchange, !exchange.mayRead() { return }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        exchange?.failed(.connectionClosed("\(error)"))
        exchange = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange?.failed(.connectionClosed("the upstream closed the connection"))
        exchange = nil
        context.fireChannelInactive()
    }
}
