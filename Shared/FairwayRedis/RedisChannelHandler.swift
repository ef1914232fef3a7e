import NIOCore

/// What callers write into a Redis channel: encoded commands and the promise for their replies.
struct RedisOutboundRequest: Sendable {
    var commands: [RedisCommand]
    /// Fulfilled with exactly `commands.count` replies, in order; nil for commands sent without waiting (SUBSCRIBE).
    var promise: EventLoopPromise<[RESPValue]>?
    var timeout: TimeAmount?
}

/// The per-connection protocol state machine: encodes requests, decodes replies with hiredis and hands each reply to the
/// request that is first in line, so many requests can be in flight on one connection (pipelining).
///
/// Replies that arrive while nothing waits go to `pushHandler` (pub/sub messages); without one they are a protocol
/// error. A request that times out closes the connection: its reply could still arrive and would then be matched to
/// the wrong caller.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisOutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt64
        var expected: Int
        var promise: EventLoopPromise<[RESPValue]>
        var timeoutTask: Scheduled<Void>?
    }

    private let decoder = RESPReplyDecoder()
    private var pending = CircularBuffer<Pending>()
    /// Replies gathered so far for the request first in line (kept outside the buffer so appends never copy).
    private var headReplies: [RESPValue] = []
    private var nextID: UInt64 = 0
    private var closedError: RedisError?
    private let pushHandler: (@Sendable (RESPValue) -> Void)?

    init(pushHandler: (@Sendable (RESPValue) -> Void)?) {
        self.pushHandler = pushHandler
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let closedError {
            request.promise?.fail(closedError)
            writePromise?.fail(closedError)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands {
            command.encode(into: &buffer)
        }
        if let promise = request.promise {
            nextID &+= 1
            let id = nextID
            var timeoutTask: Scheduled<Void>?
            if let timeout = request.timeout {
                timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                    self?.timedOut(id: id, context: context)
                }
            }
            pending.append(Pending(id: id, expected: request.commands.count, promise: promise, timeoutTask: timeoutTask))
        }
        context.write(wrapOutboundOut(buffer), promise: writePromise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try decoder.feed(unwrapInboundIn(data))
            while let reply = try decoder.next() {
                try deliver(reply)
            }
        } catch {
            fail(with: error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(closedError ?? .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(with: .connectionFailed(String(describing: error)), context: context)
    }

    private func deliver(_ reply: RESPValue) throws(RedisError) {
        guard !pending.isEmpty else {
            guard let pushHandler else { throw .protocolError("reply without a request: \(reply)") }
            pushHandler(reply)
            return
        }
        let head = pending[pending.startIndex]
        if headReplies.isEmpty { headReplies.reserveCapacity(head.expected) }
        headReplies.append(reply)
        if headReplies.count == head.expected {
            pending.removeFirst()
            head.timeoutTask?.cancel()
            let replies = headReplies
            headReplies = []
            head.promise.succeed(replies)
        }
    }

    private func timedOut(id: UInt64, context: ChannelHandlerContext) {
        guard pending.contains(where: { $0.id == id }) else { return }
        fail(with: .timeout, context: context)
    }

    private func fail(with error: RedisError, context: ChannelHandlerContext) {
        if closedError == nil { closedError = error }
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if closedError == nil { closedError = error }
        headReplies = []
        while let entry = pending.popFirst() {
            entry.timeoutTask?.cancel()
            entry.promise.fail(error)
        }
    }
}
