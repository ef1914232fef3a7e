import NIOCore
import NIOPosix
import Synchronization

/// The operation did not finish in time.
public struct DeadlineExceeded: Error, Equatable, CustomStringConvertible {
    public var limit: Duration
    public var description: String { "no result within \(limit)" }
}

/// Runs `operation`, throwing ``DeadlineExceeded`` if it takes longer than `limit`.
///
/// Used around calls into pools whose waits have no deadline of their own (a Postgres connection lease while the
/// server refuses connections), so a retry loop always gets control back. The operation runs in its own task, which
/// is cancelled at the deadline but not awaited: an operation that ignores cancellation cannot hold the caller past
/// `limit` (a task group would wait for it). The timer is an event-loop timer rather than a sleeping task, which would
/// cost two more tasks' worth of scheduling.
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = DeadlineOutcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                outcome.finish(result)
            }
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(max(0, limit.nanoseconds))) {
                if outcome.finish(.failure(DeadlineExceeded(limit: limit))) { work.cancel() }
            }
            outcome.install(continuation, work: work, timer: timer)
        }
    } onCancel: {
        outcome.cancelWork()
    }
}

/// Resumes a continuation exactly once, with whichever of the result and the deadline comes first.
private final class DeadlineOutcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// A result that came before the continuation was installed.
        var early: Result<T, any Error>?
        var done = false
        var work: Task<Void, Never>?
        var timer: Scheduled<Void>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, Never>, timer: Scheduled<Void>) {
        let (early, cancelled) = state.withLock { state -> (Result<T, any Error>?, Bool) in
            state.work = work
            state.timer = timer
            if let early = state.early {
                state.early = nil
                return (early, state.cancelled)
            }
            state.continuation = continuation
            return (nil, state.cancelled)
        }
        if cancelled { work.cancel() }
        if let early {
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    /// True when this call decided the outcome.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, timer) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Scheduled<Void>?) in
            guard !state.done else { return (nil, nil) }
            state.done = true
            guard let continuation = state.continuation else {
                state.early = result
                return (nil, nil)
            }
            state.continuation = nil
            return (continuation, state.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
        return true
    }

    func cancelWork() {
        let work = state.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }
}
