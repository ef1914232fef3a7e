import Hummingbird
import NIOCore

/// The relay's request context: Hummingbird's core context plus the connection's ``ClientPresence``, so a request can
/// be cancelled the moment its client leaves.
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    /// Set by the relay's connection handling (``RelayHTTPChannel``); a context made anywhere else watches nothing.
    var presence: ClientPresence?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// A cancellation for one request, fired when this connection's client leaves.
    public func requestCancellation() -> RequestCancellation {
        let cancellation = RequestCancellation()
        presence?.watch(cancellation)
        return cancellation
    }
}
