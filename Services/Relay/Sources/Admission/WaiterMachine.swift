/// The waiting half of admission as a pure value, shared by Redis and local admission and tested with a fake clock:
/// after each attempt that says "wait", whether to wait for a wake-up (and how long) or give up — because the client
/// left or the queue timeout passed.
struct WaiterMachine: Sendable {
    let deadline: ContinuousClock.Instant
    let pollInterval: Duration
    /// Whether this request has slept in the queue at least once (its metrics count it as queued from then).
    private(set) var waiting = false

    enum Step: Equatable, Sendable {
        /// Wait for a wake-up at most this long, then attempt again; `joined` on the first wait only.
        case sleep(Duration, joined: Bool)
        /// Leave the queue and refuse.
        case giveUp(AdmissionRefusal)
    }

    init(now: ContinuousClock.Instant, queueTimeout: Duration, pollInterval: Duration) {
        deadline = now + queueTimeout
        self.pollInterval = pollInterval
    }

    mutating func afterWait(now: ContinuousClock.Instant, abandoned: Bool) -> Step {
        if abandoned { return .giveUp(.cancelled) }
        guard now < deadline else { return .giveUp(.capacityExceeded(retryAfterSeconds: 1)) }
        let joined = !waiting
        waiting = true
        return .sleep(min(pollInterval, deadline - now), joined: joined)
    }
}
