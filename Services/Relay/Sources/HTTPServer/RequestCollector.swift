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
final class RequestCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        case collecting(HTTPRequest, ByteBuffer?)
        /// The request went on truncated; its remaining body parts are dropped.
        case discarding
    }

    private var state = State.idle
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

    /// The client closed its side: whatever it asked is cancelled (it cannot be waiting for the answer).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { presence.clientLeft() }
        context.fireUserInboundEventTriggered(event)
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
        if !inbox.arrived(request) { context.close(promise: nil) }
    }
}
