import NIOCore
import Synchronization

/// Notices a client leaving: its side of the connection closed (the server allows half-closure, so the channel stays
/// active after the client's FIN and this handler sees `inputClosed`) or the connection gone (a reset). Requests on the
/// connection watch it through ``ClientConnections`` and are cancelled at once.
final class ClientDisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Open connections and the requests watching them, by channel identity.
    static let registry = ClientConnections()

    func handlerAdded(context: ChannelHandlerContext) {
        Self.registry.opened(context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            Self.registry.clientLeft(context.channel, closed: false)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        Self.registry.clientLeft(context.channel, closed: true)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }
}

/// Which open connections' clients have left, and the requests to cancel when they do.
final class ClientConnections: Sendable {
    private struct Connection {
        var left = false
        var watchers: [ObjectIdentifier: WeakCancellation] = [:]
    }

    private let connections = Mutex<[ObjectIdentifier: Connection]>([:])

    func opened(_ channel: any Channel) { connections.withLock { $0[ObjectIdentifier(channel)] = Connection() } }

    func clientLeft(_ channel: any Channel, closed: Bool) {
        let id = ObjectIdentifier(channel)
        let watchers = connections.withLock { connections -> [WeakCancellation] in
            let watchers = connections[id].map { Array($0.watchers.values) } ?? []
            if closed { connections.removeValue(forKey: id) } else { connections[id] = Connection(left: true) }
            return watchers
        }
        for watcher in watchers { watcher.value?.fire(.clientLeft) }
    }

    /// Fires `cancellation` when the client leaves (at once if it has already gone).
    func watch(_ channel: any Channel, _ cancellation: RequestCancellation) {
        let watching = connections.withLock { connections -> Bool in
            let id = ObjectIdentifier(channel)
            guard var connection = connections[id], !connection.left, channel.isActive else { return false }
            // Requests on one connection come one after another: drop those that have finished.
            connection.watchers = connection.watchers.filter { $0.value.value != nil }
            connection.watchers[ObjectIdentifier(cancellation)] = WeakCancellation(value: cancellation)
            connections[id] = connection
            return true
        }
        if !watching { cancellation.fire(.clientLeft) }
    }
}
