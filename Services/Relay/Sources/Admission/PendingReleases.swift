import Synchronization

/// The slot releases running off the answer's path (``RedisTicket``), so that a draining relay gives every slot back
/// before its Redis connections close: admission's service waits for them when the server has drained.
final class PendingReleases: Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    var count: Int { state.withLock { $0.running } }

    /// Runs `body` in a task of its own (a cancelled request must still give its slot back), counted until it ends.
    @discardableResult
    func run(_ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        state.withLock { $0.running += 1 }
        return Task {
            await body()
            self.finished()
        }
    }

    /// Returns once none is running (at once when none is). Each release ends within Redis's command timeout.
    func drained() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if state.running == 0 { return true }
                state.waiters.append(waiter)
                return false
            }
            if idle { waiter.resume() }
        }
    }

    private func finished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running -= 1
            guard state.running == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
