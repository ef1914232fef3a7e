import NIOCore
import Synchronization

/// Notices a client closing its side of the connection. The server allows half-closure, so the channel stays active
/// after the client's FIN; this handler sees the `inputClosed` event and records it where a waiting request can look
/// it up by its channel.
final class ClientDisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Channels whose client has gone, by identity; entries are removed when the channel closes.
    static let registry = ClientConnections()

    func handlerAdded(context: ChannelHandlerContext) {
        Self.registry.opened(context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            Self.registry.clientLeft(context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        Self.registry.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }
}

/// Which open connections' clients have left.
final class ClientConnections: Sendable {
    private let left = Mutex<[ObjectIdentifier: Bool]>([:])

    func opened(_ channel: any Channel) { left.withLock { $0[ObjectIdentifier(channel)] = false } }
    func clientLeft(_ channel: any Channel) { left.withLock { $0[ObjectIdentifier(channel)] = true } }
    func closed(_ channel: any Channel) { _ = left.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) } }

    /// False once the client closed its side or the connection is gone.
    func isConnected(_ channel: any Channel) -> Bool {
        channel.isActive && left.withLock { $0[ObjectIdentifier(channel)] } != true
    }
}
