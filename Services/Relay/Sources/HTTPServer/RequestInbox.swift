import Hummingbird
import Synchronization

/// A request read off a connection, its body already collected.
struct InboundRequest: Sendable {
    var request: Request
    /// The body was longer than the limit and the rest of it was not read: the connection cannot carry another request
    /// and is closed after the answer (which will be the route's own "too large" error: it sees limit + 1 bytes).
    var bodyTruncated: Bool
}

/// Where a connection's ``RequestCollector`` leaves each request for the connection's task (``RequestInboxMachine``
/// under a lock). Resuming a waiting task is the only cross-task step a request takes into the relay.
final class RequestInbox: Sendable {
    private let machine = Mutex(RequestInboxMachine<InboundRequest, UnsafeContinuation<InboundRequest?, Never>>())

    /// Returns false when the request cannot be taken (the connection is done).
    func arrived(_ request: InboundRequest) -> Bool {
        switch machine.withLock({ $0.arrived(request) }) {
        case .resume(let waiter, let request):
            waiter.resume(returning: request)
            return true
        case .none:
            return true
        case .close:
            return false
        }
    }

    /// The next request, or nil once the connection is done.
    func next() async -> InboundRequest? {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { waiter in
                switch machine.withLock({ $0.ask(waiter) }) {
                case .deliver(let request): waiter.resume(returning: request)
                case .end: waiter.resume(returning: nil)
                case .suspended: break
                }
            }
        } onCancel: {
            close()
        }
    }

    func close() {
        if case .resumeWithEnd(let waiter) = machine.withLock({ $0.close() }) { waiter.resume(returning: nil) }
    }
}
