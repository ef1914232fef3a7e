/// The operation did not finish in time.
public struct DeadlineExceeded: Error, Equatable, CustomStringConvertible {
    public var limit: Duration
    public var description: String { "no result within \(limit)" }
}

/// Runs `operation`, cancelling it and throwing ``DeadlineExceeded`` if it takes longer than `limit`.
///
/// Used around calls into pools whose waits have no deadline of their own (a Postgres connection lease while the
/// server refuses connections), so a retry loop always gets control back.
public func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw DeadlineExceeded(limit: limit) }
        return result
    }
}
