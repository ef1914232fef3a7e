import Hummingbird
import NIOCore

/// The relay's request context: Hummingbird's core context plus the connection, so a request waiting for a slot can
/// notice that its client has gone (the connection is no longer active) and leave the queue.
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Whether the client's connection is still open (see ``ClientDisconnectWatcher``).
    public var clientConnected: @Sendable () -> Bool {
        let channel = self.channel
        return { ClientDisconnectWatcher.registry.isConnected(channel) }
    }
}
