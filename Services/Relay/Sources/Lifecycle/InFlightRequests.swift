import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The relay's requests in flight, for a graceful drain (DESIGN §1, §14): on SIGTERM the server stops accepting and
/// lets requests finish; once `FAIRWAY_DRAIN_TIMEOUT` has passed, every request still running is cancelled, which
/// makes its owner release its slot and emit its event before the emitter flushes and the process exits.
public final class InFlightRequests: Sendable {
    private struct State {
        var requests: [ObjectIdentifier: WeakCancellation] = [:]
        var draining = false
        var deadlinePassed = false
    }

    private let state = Mutex(State())
    public let drainTimeout: Duration
    private let logger: Logger
    private let gauge = Gauge(label: "fairway_requests_in_flight")

    public init(drainTimeout: Duration, logger: Logger) {
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    public var count: Int { state.withLock { state in state.requests.values.count { $0.value != nil } } }

    /// Tracks a request until it is finished (it is held weakly: a finished request drops out by itself).
    public func track(_ cancellation: RequestCancellation) {
        let late = state.withLock { state -> Bool in
            if state.deadlinePassed { return true }
            // Owners call `finished`; this only sweeps up after one that could not (amortised O(1)).
            if state.requests.count >= 1024 && state.requests.count.nonzeroBitCount == 1 {
                state.requests = state.requests.filter { $0.value.value != nil }
            }
            state.requests[ObjectIdentifier(cancellation)] = WeakCancellation(value: cancellation)
            gauge.record(state.requests.count)
            return false
        }
        if late { cancellation.fire(.draining) }
    }

    public func finished(_ cancellation: RequestCancellation) {
        state.withLock { state in
            state.requests.removeValue(forKey: ObjectIdentifier(cancellation))
            gauge.record(state.requests.count)
        }
    }

    /// Starts the drain clock (once): after `drainTimeout`, every request still in flight is cancelled.
    public func beginDrain() {
        let first = state.withLock { state -> Bool in
            defer { state.draining = true }
            return !state.draining
        }
        guard first else { return }
        logger.info("Draining: requests in flight may finish", metadata: ["in_flight": "\(count)", "timeout": "\(drainTimeout)"])
        Task { [self] in
            try? await Task.sleep(for: drainTimeout)
            cancelRemaining()
        }
    }

    func cancelRemaining() {
        let remaining = state.withLock { state -> [RequestCancellation] in
            state.deadlinePassed = true
            defer { state.requests.removeAll() }
            return state.requests.values.compactMap(\.value)
        }
        if !remaining.isEmpty {
            logger.warning("Drain timeout passed: cancelling the requests still in flight", metadata: ["count": "\(remaining.count)"])
        }
        for request in remaining { request.fire(.draining) }
    }
}

/// Starts the drain clock on the first graceful-shutdown signal. It runs in the process's outer service group, ahead
/// of the application (whose server only stops once every request has finished), so the clock starts at SIGTERM.
public struct DrainTrigger: Service {
    let requests: InFlightRequests

    public init(requests: InFlightRequests) {
        self.requests = requests
    }

    public func run() async throws {
        try? await gracefulShutdown()
        requests.beginDrain()
    }
}
