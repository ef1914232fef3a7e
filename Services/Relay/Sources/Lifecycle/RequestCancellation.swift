import NIOCore
import NIOPosix
import Synchronization

/// Stops one request's upstream work from outside its task: when its client disconnects, or when a draining relay's
/// deadline has passed. It fires once; a handler registered after that runs at once.
///
/// The request path runs each upstream call through ``run(until:stopping:_:)``, so the call's exchange is stopped the
/// moment this fires, and the pipeline — which owns the slot and the event — then settles with the reason.
public final class RequestCancellation: Sendable {
    public enum Reason: Sendable, Equatable {
        case clientLeft
        case draining
    }

    private struct State {
        var reason: Reason?
        var handlers: [UInt64: @Sendable () -> Void] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the request was stopped, or nil while it may go on.
    public var reason: Reason? { state.withLock { $0.reason } }

    public func fire(_ reason: Reason) {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler() }
    }

    /// Calls `handler` when this fires (at once if it already has); the id removes it again.
    @discardableResult
    public func onFire(_ handler: @escaping @Sendable () -> Void) -> UInt64? {
        let id = state.withLock { state -> UInt64? in
            guard state.reason == nil else { return nil }
            state.nextID &+= 1
            state.handlers[state.nextID] = handler
            return state.nextID
        }
        if id == nil { handler() }
        return id
    }

    public func remove(_ id: UInt64?) {
        guard let id else { return }
        _ = state.withLock { $0.handlers.removeValue(forKey: id) }
    }

    /// Runs `operation` in a task of its own that is cancelled when this fires (or when the caller is cancelled): for
    /// work whose awaits only task cancellation stops (an MCP server's call on AsyncHTTPClient). The operation always
    /// runs to a result: it reports its own cancellation.
    public func run<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T {
        let work = Task { await operation() }
        let id = onFire { work.cancel() }
        defer { remove(id) }
        return await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
    }
}

extension RequestCancellation {
    /// Runs an upstream call in the caller's own task, stopped through `stop` when this fires, when the caller is
    /// cancelled, or at `deadline` (an event-loop timer, so the total timeout costs no task either). The call's awaits
    /// are on the exchange `stop` reaches; it always runs to a result and reports its own stop (and tells a deadline
    /// by the clock). A task per call cost more only while each flush woke its peer (`bench/README.md`).
    func run<T>(until deadline: ContinuousClock.Instant, stopping stop: UpstreamStop, _ operation: () async -> T) async -> T {
        let id = onFire { stop.stop() }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        let timer = loop.scheduleTask(in: .nanoseconds(max(0, (deadline - .now).nanoseconds))) { stop.stop() }
        defer {
            remove(id)
            timer.cancel()
            stop.detach()
        }
        return await withTaskCancellationHandler {
            await operation()
        } onCancel: {
            stop.stop()
        }
    }
}

/// A weak reference, so registries of live requests never keep a finished request alive.
struct WeakCancellation: Sendable {
    weak var value: RequestCancellation?

    init(value: RequestCancellation? = nil) {
        self.value = value
    }
}
