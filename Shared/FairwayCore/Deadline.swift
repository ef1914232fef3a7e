import Synchronization

/// The operation did not finish in time.
public struct DeadlineExceeded: Error, Equatable, CustomStringConvertible {
    public var limit: Duration
    public var description: String { "no result within \(limit)" }
}

/// Runs `operation`, throwing ``DeadlineExceeded`` if it takes longer than `limit`.
///
/// Used around calls into pools whose waits have no deadline of their own (a Postgres connection lease while the
/// server refuses connections), so a retry loop always gets control back. The operation runs in its own task, which is
/// cancelled at the deadline but not awaited: an operation that ignores cancellation cannot hold the caller past
/// `limit` (a task group would wait for it).
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let work = Task { try await operation() }
    let outcome = DeadlineOutcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.install(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)
                if outcome.finish(.failure(DeadlineExceeded(limit: limit))) { work.cancel() }
            }
            Task {
                let result = await work.result
                if outcome.finish(result) { timer.cancel() }
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// Resumes a continuation exactly once, with whichever of the result and the deadline comes first.
private final class DeadlineOutcome<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, done: Bool)>((nil, false))

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// True when this call resumed the continuation.
    func finish(_ result: Result<T, any Error>) -> Bool {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.done, let continuation = state.continuation else { return nil }
            state.done = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
        return continuation != nil
    }
}
