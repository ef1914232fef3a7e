import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// The last handler of a relay connection: gathers each request's head and body on the event loop and leaves the whole
/// request in the connection's ``RequestInbox``. Every relay route reads its body whole anyway (it is JSON), so
/// collecting it here costs nothing more and spares the request path an async sequence per body part. It also tells
/// the connection's ``ClientPresence`` when the client leaves.
///
/// At most `bodyLimit + 1` bytes are kept: past that the request goes on at once with what was read, the route answers
/// that it is too large, and the rest of the body is dropped as it comes.
///
/// It also paces reading, in place of NIO's pipelining handler: that one held the channel's read back while any answer
/// was pending, so NIO dropped and re-added the socket's read interest around every request (two `epoll_ctl` per
/// request). Here the request being answered does not stop reading; one more complete request waiting does, until the
/// answer before it has ended. On quiescing (graceful shutdown) an idle connection closes at once and a busy one after
/// its last answer.
final class RequestCollector: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        case collecting(HTTPRequest, ByteBuffer?)
        /// The request went on truncated; its remaining body parts are dropped.
        case discarding
    }

    private var state = State.idle
    /// Requests handed to the inbox whose answer has not ended.
    private var unanswered = 0
    /// A read the channel asked for while requests were waiting, issued when they are down to one.
    private var readPending = false
    private var quiescing = false
    private let inbox: RequestInbox
    private let presence: ClientPresence
    private let keep: Int

    init(inbox: RequestInbox, presence: ClientPresence, bodyLimit: Int) {
        self.inbox = inbox
        self.presence = presence
        self.keep = bodyLimit.addingReportingOverflow(1).overflow ? Int.max : bodyLimit + 1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            state = .collecting(head, nil)
            // A client that asks before sending its body (curl does, past 1 KB) is told to go on now, not after its timeout.
            if head.headerFields[.expect]?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        case (.body(let part), .collecting(let head, let body)):
            collect(part, onto: body, of: head, context: context)
        case (.end, .collecting(let head, let body)):
            state = .idle
            deliver(InboundRequest(request: Request(head: head, body: .init(buffer: body ?? ByteBuffer())), bodyTruncated: false), context: context)
        case (.body, .discarding):
            break
        case (.end, .discarding):
            state = .idle
        case (.head, _), (.body, .idle), (.end, .idle):
            // The decoder does not produce these; a connection that somehow does is not trusted with another request.
            context.close(promise: nil)
        }
    }

    /// A request that does not parse has had its 400 from NIO's error handler; nothing more can be read from it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The client closed its side: whatever it asked is cancelled (it cannot be waiting for the answer). Quiescing:
    /// see the type's comment.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if unanswered == 0, case .idle = state { context.close(promise: nil) }
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed { presence.clientLeft() }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if quiescing, case .idle = state { return }
        if unanswered > 1 {
            readPending = true
            return
        }
        context.read()
    }

    /// An answer's end: one request fewer unanswered, so reading may go on (or, quiescing, the connection closes).
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        unanswered = max(0, unanswered - 1)
        // A request still arriving is read to its end and answered first.
        if quiescing && unanswered == 0, case .idle = state {
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            context.write(data, promise: written)
            return
        }
        context.write(data, promise: promise)
        if readPending && unanswered <= 1 {
            readPending = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        presence.clientLeft()
        inbox.close()
        context.fireChannelInactive()
    }

    private func collect(_ part: ByteBuffer, onto body: ByteBuffer?, of head: HTTPRequest, context: ChannelHandlerContext) {
        // Drop the state's copy first so appending does not copy the buffer.
        state = .collecting(head, nil)
        var body = body ?? ByteBuffer()
        if body.readableBytes == 0 {
            body = part
        } else {
            var part = part
            body.writeBuffer(&part)
        }
        guard body.readableBytes >= keep else {
            state = .collecting(head, body)
            return
        }
        state = .discarding
        let kept = body.getSlice(at: body.readerIndex, length: keep) ?? body
        deliver(InboundRequest(request: Request(head: head, body: .init(buffer: kept)), bodyTruncated: true), context: context)
    }

    private func deliver(_ request: InboundRequest, context: ChannelHandlerContext) {
        unanswered += 1
        if !inbox.arrived(request) { context.close(promise: nil) }
    }
}
