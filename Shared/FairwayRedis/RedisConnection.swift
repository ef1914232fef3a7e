import NIOCore
import NIOPosix

/// One TCP connection to Redis, authenticated and on the right database, ready to pipeline commands.
final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var isActive: Bool { channel.isActive }

    /// Connects and runs the handshake (`AUTH`, `SELECT`). Replies that arrive unasked go to `pushHandler`.
    static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        pushHandler: (@Sendable (RESPValue) -> Void)? = nil
    ) -> EventLoopFuture<RedisConnection> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(pushHandler: pushHandler))
                }
            }
        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapError { error in
                eventLoop.makeFailedFuture(RedisError.connectionFailed(String(describing: error)))
            }
            .flatMap { channel in
                let connection = RedisConnection(channel: channel)
                var handshake: [RedisCommand] = []
                if let password = configuration.password {
                    if let username = configuration.username {
                        handshake.append(RedisCommand("AUTH", username, password))
                    } else {
                        handshake.append(RedisCommand("AUTH", password))
                    }
                }
                if configuration.database != 0 {
                    handshake.append(RedisCommand("SELECT", configuration.database))
                }
                guard !handshake.isEmpty else { return eventLoop.makeSucceededFuture(connection) }
                return connection.send(handshake, timeout: configuration.connectTimeout)
                    .flatMapThrowing { replies in
                        for case .error(let message) in replies {
                            throw RedisError.connectionFailed("handshake refused: \(message)")
                        }
                        return connection
                    }
                    .flatMapErrorThrowing { error in
                        channel.close(promise: nil)
                        throw error
                    }
            }
    }

    /// Sends the commands back to back; the future holds one reply per command (error replies included, not thrown).
    func send(_ commands: [RedisCommand], timeout: Duration?) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let request = RedisOutboundRequest(
            commands: commands,
            promise: promise,
            timeout: timeout.map { .nanoseconds(Int64($0.seconds * 1e9)) }
        )
        channel.writeAndFlush(request).whenFailure { error in
            promise.fail(error as? RedisError ?? .connectionClosed)
        }
        return promise.futureResult
    }

    /// Sends commands whose replies arrive as pushes (SUBSCRIBE): nothing waits for them here.
    func sendWithoutReply(_ commands: [RedisCommand]) -> EventLoopFuture<Void> {
        channel.writeAndFlush(RedisOutboundRequest(commands: commands, promise: nil, timeout: nil))
    }

    func close() {
        channel.close(promise: nil)
    }
}
