import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A raw TCP server that answers each HTTP/1.1 request with whatever its script says, byte for byte, and counts the
/// connections it accepted and saw closed: the upstream client's tests need answers no well-behaved server gives.
final class ScriptedHTTPServer: Sendable {
    /// What the server does with one request.
    struct Reply: Sendable {
        var bytes: [UInt8] = []
        /// Close the connection after writing.
        var close = false
        /// Write nothing and keep the connection open.
        var silent = false
        /// Further writes, each after a pause.
        var later: [(delay: TimeAmount, bytes: [UInt8])] = []

        static func raw(_ text: String, close: Bool = false) -> Reply { Reply(bytes: Array(text.utf8), close: close) }

        static func ok(_ body: String, headers: String = "") -> Reply {
            .raw("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\(headers)\r\n\(body)")
        }
    }

    struct Request: Sendable {
        var connection: Int
        var head: String
        var body: String
    }

    private struct State {
        var accepted = 0
        var closed = 0
        var requests: [Request] = []
    }

    private let state = Mutex(State())
    private let script: @Sendable (Request) -> Reply
    private let channel = Mutex<(any Channel)?>(nil)
    /// Serves TLS with this context when given.
    private let tls: NIOSSLContext?

    init(tls: NIOSSLContext? = nil, _ script: @escaping @Sendable (Request) -> Reply) {
        self.tls = tls
        self.script = script
    }

    var accepted: Int { state.withLock { $0.accepted } }
    var closed: Int { state.withLock { $0.closed } }
    var requests: [Request] { state.withLock { $0.requests } }

    func start(host: String = "127.0.0.1") async throws -> Int {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                let connection = state.withLock { state in
                    state.accepted += 1
                    return state.accepted
                }
                channel.closeFuture.whenComplete { [self] _ in state.withLock { $0.closed += 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(ScriptedConnectionHandler(connection: connection, server: self))
                }
            }
        let server = try await bootstrap.bind(host: host, port: 0).get()
        channel.withLock { $0 = server }
        return server.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.withLock { $0 }?.close()
    }

    fileprivate func answer(_ request: Request) -> Reply {
        state.withLock { $0.requests.append(request) }
        return script(request)
    }
}

private final class ScriptedConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let connection: Int
    let server: ScriptedHTTPServer
    private var received: [UInt8] = []

    init(connection: Int, server: ScriptedHTTPServer) {
        self.connection = connection
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Array(unwrapInboundIn(data).readableBytesView)
        while let request = takeRequest() {
            let reply = server.answer(request)
            if reply.silent { continue }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: reply.bytes)), promise: nil)
            var delay = TimeAmount.zero
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            for (pause, bytes) in reply.later {
                delay = delay + pause
                context.eventLoop.scheduleTask(in: delay) {
                    bound.value.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
                }
            }
            if reply.close {
                context.eventLoop.scheduleTask(in: delay) { bound.value.close(promise: nil) }
            }
        }
    }

    /// One whole request (head and `content-length` body) off the front of what was received.
    private func takeRequest() -> ScriptedHTTPServer.Request? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, received.count - 3)).first(where: { Array(received[$0..<($0 + 4)]) == separator }) else { return nil }
        let head = String(decoding: received[..<end], as: UTF8.self)
        let length = head.split(separator: "\r\n").compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        guard received.count >= end + 4 + length else { return nil }
        let body = String(decoding: received[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        received.removeFirst(end + 4 + length)
        return .init(connection: connection, head: head, body: body)
    }
}
