import Synchronization

/// Whether a connection's client is still there, and the request to cancel the moment it is not.
///
/// The connection's ``RequestCollector`` reports the client leaving: its side closed (the server allows half-closure,
/// so the channel stays open after the client's FIN and the collector sees `inputClosed`) or the connection gone (a
/// reset). Requests on a connection come one after another, so only the latest is watched; it is held weakly, as a
/// finished request must not be kept alive by its connection.
final class ClientPresence: Sendable {
    private struct State {
        var left = false
        var watcher = WeakCancellation()
    }

    private let state = Mutex(State())

    init() {}

    /// Fires `cancellation` when the client leaves (at once if it has already gone).
    func watch(_ cancellation: RequestCancellation) {
        let gone = state.withLock { state -> Bool in
            state.watcher = WeakCancellation(value: cancellation)
            return state.left
        }
        if gone { cancellation.fire(.clientLeft) }
    }

    func clientLeft() {
        let watcher = state.withLock { state -> RequestCancellation? in
            state.left = true
            defer { state.watcher = WeakCancellation() }
            return state.watcher.value
        }
        watcher?.fire(.clientLeft)
    }
}
