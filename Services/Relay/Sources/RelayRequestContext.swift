import Hummingbird
import NIOCore

/// The relay's request context: Hummingbird's core context plus the connection, so a request can be cancelled the
/// moment its client leaves (see ``ClientDisconnectWatcher``).
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// A cancellation for one request, fired when this connection's client leaves.
    public func requestCancellation() -> RequestCancellation {
        let cancellation = RequestCancellation()
        ClientDisconnectWatcher.registry.watch(channel, cancellation)
        return cancellation
    }
}
