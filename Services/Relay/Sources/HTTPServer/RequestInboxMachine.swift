/// Hands the requests a connection's event loop reads to the one task that answers them, a request at a time.
///
/// A pure value: the ``RequestInbox`` holds it under a lock and carries out what it returns, so the hand-over between
/// the loop (arrivals, the connection closing) and the task (asking for the next request) is unit-tested without
/// either. Requests a pipelining client sent ahead wait here in order; the ``RequestCollector`` stops reading while
/// any does, so they are at most what one read of the socket carried.
struct RequestInboxMachine<Request, Waiter> {
    enum State {
        /// Nothing has arrived and nobody is asking.
        case idle
        /// Requests arrived before the task asked for them, oldest first (never empty).
        case ready([Request])
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
        /// A request arrived after the end: close the connection.
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
            state = .ready([request])
            return .none
        case .waiting(let waiter):
            state = .idle
            return .resume(waiter, request)
        case .ready(var queued):
            state = .idle
            queued.append(request)
            state = .ready(queued)
            return .none
        case .closed:
            return .close
        }
    }

    /// The task asks for the next request, offering `waiter` to be resumed when there is none yet.
    mutating func ask(_ waiter: Waiter) -> AskAction {
        switch state {
        case .ready(var queued):
            state = .idle
            let request = queued.removeFirst()
            if !queued.isEmpty { state = .ready(queued) }
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
