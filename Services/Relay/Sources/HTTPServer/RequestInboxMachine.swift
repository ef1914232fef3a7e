/// Hands the requests a connection's event loop reads to the one task that answers them, a request at a time.
///
/// A pure value: the ``RequestInbox`` holds it under a lock and carries out what it returns, so the hand-over between
/// the loop (arrivals, the connection closing) and the task (asking for the next request) is unit-tested without
/// either. The HTTP pipeline holds back a pipelined request until the answer before it has been written, so at most
/// one request is ever waiting here; a second one arriving is a broken promise, and the connection is closed.
struct RequestInboxMachine<Request, Waiter> {
    enum State {
        /// Nothing has arrived and nobody is asking.
        case idle
        /// A request arrived before the task asked for it.
        case ready(Request)
        /// The task is waiting for the next request.
        case waiting(Waiter)
        /// The connection is gone (or the task stopped): no request comes any more.
        case closed
    }

    enum ArrivalAction {
        /// Give the request to the waiting task.
        case resume(Waiter, Request)
        /// Kept until the task asks.
        case none
        /// A request arrived while another was still unanswered, or after the end: close the connection.
        case close
    }

    enum AskAction {
        /// Here is the next request.
        case deliver(Request)
        /// No request comes any more.
        case end
        /// The waiter was kept; an arrival or the end resumes it.
        case suspended
    }

    enum CloseAction {
        /// Tell the waiting task that no request comes any more.
        case resumeWithEnd(Waiter)
        case none
    }

    private(set) var state: State = .idle

    init() {}

    mutating func arrived(_ request: Request) -> ArrivalAction {
        switch state {
        case .idle:
            state = .ready(request)
            return .none
        case .waiting(let waiter):
            state = .idle
            return .resume(waiter, request)
        case .ready, .closed:
            return .close
        }
    }

    /// The task asks for the next request, offering `waiter` to be resumed when there is none yet.
    mutating func ask(_ waiter: Waiter) -> AskAction {
        switch state {
        case .ready(let request):
            state = .idle
            return .deliver(request)
        case .idle:
            state = .waiting(waiter)
            return .suspended
        case .closed:
            return .end
        case .waiting:
            // One task answers a connection; a second asker is a bug, and it gets no request rather than a race.
            return .end
        }
    }

    /// The connection closed, or the task was cancelled: a request not yet taken is dropped (its answer could not be
    /// written).
    mutating func close() -> CloseAction {
        defer { state = .closed }
        if case .waiting(let waiter) = state { return .resumeWithEnd(waiter) }
        return .none
    }
}
