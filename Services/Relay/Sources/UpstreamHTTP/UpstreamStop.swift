import Synchronization

/// Stops one upstream call from outside the task that makes it: the exchange in flight, once there is one, fails its
/// reader with ``UpstreamHTTPError/cancelled`` at once, and one attached after the stop is cancelled as it comes.
///
/// This lets a request's own task make its upstream call (no task of its own per call, no hand-over to it and back)
/// and still be stopped when its client leaves, the relay drains or the call's total deadline passes.
final class UpstreamStop: Sendable {
    private struct State {
        var stopped = false
        var exchange: UpstreamExchange?
    }

    private let state = Mutex(State())

    var isStopped: Bool { state.withLock { $0.stopped } }

    func stop() {
        let exchange = state.withLock { state -> UpstreamExchange? in
            state.stopped = true
            defer { state.exchange = nil }
            return state.exchange
        }
        exchange?.cancel()
    }

    /// The exchange about to be sent (a retry's replaces the first); false, and the exchange cancelled, when the call
    /// was stopped already — the request is then not sent at all.
    func attach(_ exchange: UpstreamExchange) -> Bool {
        let stopped = state.withLock { state -> Bool in
            if !state.stopped { state.exchange = exchange }
            return state.stopped
        }
        if stopped { exchange.cancel() }
        return !stopped
    }

    /// The call is over: a later stop no longer reaches its exchange (a stream's body has its own abort).
    func detach() {
        state.withLock { $0.exchange = nil }
    }
}
