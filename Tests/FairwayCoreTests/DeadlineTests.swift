import FairwayCore
import Synchronization
import Testing

@Suite("withDeadline")
struct DeadlineTests {
    @Test func aResultBeforeTheDeadlineIsReturned() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
        await #expect(throws: CodeError.self) { try await withDeadline(.seconds(5)) { throw CodeError() } }
    }

    /// An operation that ignores cancellation cannot hold the caller past its limit.
    @Test func aStuckOperationIsAbandonedAtTheDeadline() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(100)) { () async -> Int in
                let end = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(20)) }
                return 1
            }
        }
        #expect(error?.limit == .milliseconds(100))
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func theDeadlineCancelsTheOperation() async throws {
        let sawCancellation = Mutex(false)
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(50)) {
                do { try await Task.sleep(for: .seconds(5)) } catch { sawCancellation.withLock { $0 = true } }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(sawCancellation.withLock { $0 })
    }

    @Test func cancellingTheCallerCancelsTheOperation() async throws {
        let caller = Task { try await withDeadline(.seconds(10)) { try await Task.sleep(for: .seconds(10)) } }
        try await Task.sleep(for: .milliseconds(50))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }

    /// Many calls at once each get their own outcome, whichever of result and deadline comes first.
    @Test func concurrentCallsEachResolveOnce() async throws {
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<400 {
                group.addTask {
                    let value = try? await withDeadline(.milliseconds(index % 2 == 0 ? 0 : 2_000)) { index }
                    return index % 2 == 1 ? value == index : (value == nil || value == index)
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 400 && results.allSatisfy { $0 })
    }

    private struct CodeError: Error {}
}
