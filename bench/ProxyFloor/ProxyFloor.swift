import ArgumentParser
import FairwayRuntime
import NIOCore
import NIOHTTP1
import NIOPosix

/// The floor under the relay's CPU per request on this machine: the least a SwiftNIO HTTP/1.1 server can spend to
/// answer a request (`answer`), to pass it through to an upstream on a pooled connection with everything done on the
/// event loop (`proxy`), and to do the same with one Swift task per request awaiting the upstream, as the relay does
/// (`proxy-task`, tasks on the event loops as in the relay). No auth, no JSON, no events: what is left when the relay's
/// own work is taken away. `bench/run` measures each against the same nginx as the relay.
@main
struct ProxyFloor: AsyncParsableCommand {
    enum Mode: String, ExpressibleByArgument, Sendable {
        case answer, proxy
        case proxyTask = "proxy-task"
    }

    @Option var mode: Mode = .answer
    @Option var port: Int
    @Option(help: "nginx (or any HTTP/1.1 server) on 127.0.0.1 that the proxy modes forward to")
    var upstreamPort: Int = 0

    func run() async throws {
        if mode == .proxyTask { ProcessBootstrap.runTasksOnEventLoops() }
        let mode = self.mode, upstreamPort = self.upstreamPort
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true)
                    try channel.pipeline.syncOperations.addHandler(FloorHandler(mode: mode, upstreamPort: upstreamPort))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        print("floor \(mode.rawValue) on 127.0.0.1:\(port)")
        try await server.closeFuture.get()
    }
}

/// The canned answer of `answer` mode: the same completion nginx returns.
let completion = #"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, from the fixed upstream."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}"#

/// The server side: collects a request, then answers, forwards, or forwards from a task.
final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let mode: ProxyFloor.Mode
    let upstreamPort: Int
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var pool: UpstreamPool?

    init(mode: ProxyFloor.Mode, upstreamPort: Int) {
        self.mode = mode
        self.upstreamPort = upstreamPort
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            respond(to: head, body: body, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        switch mode {
        case .answer:
            Self.write(status: .ok, body: ByteBuffer(string: completion), on: context.channel)
        case .proxy:
            let channel = context.channel
            pool(on: context.eventLoop).exchange(head.uri, body: body)
                .assumeIsolated().whenComplete { result in
                    switch result {
                    case .success(let answer): Self.write(status: answer.status, body: answer.body, on: channel)
                    case .failure: Self.write(status: .badGateway, body: ByteBuffer(), on: channel)
                    }
                }
        case .proxyTask:
            let channel = context.channel
            let uri = head.uri
            let bound = boundPool(on: context.eventLoop)
            let request = ForwardedRequest(uri: uri, body: body, pool: bound, client: channel)
            Task { await request.run() }
        }
    }

    private func boundPool(on loop: any EventLoop) -> NIOLoopBound<UpstreamPool> {
        NIOLoopBound(pool(on: loop), eventLoop: loop)
    }

    private func pool(on loop: any EventLoop) -> UpstreamPool {
        if let pool { return pool }
        let made = UpstreamPool(loop: loop, port: upstreamPort)
        pool = made
        return made
    }

    static func write(status: HTTPResponseStatus, body: ByteBuffer, on channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
    }
}

/// A request of `proxy-task` mode: forwarded from a task, as the relay does.
struct ForwardedRequest: Sendable {
    let uri: String
    let body: ByteBuffer
    let pool: NIOLoopBound<UpstreamPool>
    let client: any Channel

    func run() async {
        do {
            let answer = try await forward().get()
            FloorHandler.write(status: answer.status, body: answer.body, on: client)
        } catch {
            FloorHandler.write(status: .badGateway, body: ByteBuffer(), on: client)
        }
    }

    /// The exchange, from a task that normally runs on the connection's own loop already.
    private func forward() -> EventLoopFuture<UpstreamAnswer> {
        if pool.eventLoop.inEventLoop { return pool.value.exchange(uri, body: body) }
        let pool = self.pool, uri = self.uri, body = self.body
        return pool.eventLoop.flatSubmit { pool.value.exchange(uri, body: body) }
    }
}

/// An upstream's answer, whole.
struct UpstreamAnswer: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer
}

/// The upstream connection of one client connection, kept alive (made at its first request; used only on its loop).
final class UpstreamPool {
    let loop: any EventLoop
    let port: Int
    private var idle: UpstreamConnectionHandler?

    init(loop: any EventLoop, port: Int) {
        self.loop = loop
        self.port = port
    }

    func exchange(_ uri: String, body: ByteBuffer) -> EventLoopFuture<UpstreamAnswer> {
        connection().flatMap { connection in
            connection.send(uri: uri, body: body).always { result in
                if case .success = result { self.idle = connection }
            }
        }
    }

    private func connection() -> EventLoopFuture<UpstreamConnectionHandler> {
        if let connection = idle {
            idle = nil
            return loop.makeSucceededFuture(connection)
        }
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnectionHandler())
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .flatMapThrowing { try $0.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self) }
    }
}

/// One upstream connection: one request at a time, its answer collected whole.
final class UpstreamConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var pending: EventLoopPromise<UpstreamAnswer>?
    private var answer = UpstreamAnswer(status: .ok, body: ByteBuffer())

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(uri: String, body: ByteBuffer) -> EventLoopFuture<UpstreamAnswer> {
        guard let context else { preconditionFailure("send before the handler was added") }
        let promise = context.eventLoop.makePromise(of: UpstreamAnswer.self)
        pending = promise
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "upstream")
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            answer = UpstreamAnswer(status: head.status, body: ByteBuffer())
        case .body(var part):
            answer.body.writeBuffer(&part)
        case .end:
            pending?.succeed(answer)
            pending = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.ioOnClosedChannel)
        pending = nil
    }
}
