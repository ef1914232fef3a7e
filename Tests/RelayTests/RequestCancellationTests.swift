import Testing

@testable import Relay

@Suite("Request cancellation")
struct RequestCancellationTests {
    @Test func firingCancelsTheRunningStepAndLaterHandlersRunAtOnce() async {
        let cancellation = RequestCancellation()
        let started = AsyncStream.makeStream(of: Void.self)
        let step = Task {
            await cancellation.run { () -> Bool in
                started.continuation.yield()
                do {
                    try await Task.sleep(for: .seconds(30))
                    return false
                } catch {
                    return true
                }
            }
        }
        for await _ in started.stream { break }
        cancellation.fire(.clientLeft)
        #expect(await step.value, "the step saw its cancellation")
        #expect(cancellation.reason == .clientLeft)
        cancellation.fire(.draining)
        #expect(cancellation.reason == .clientLeft, "it fires once")
        let late = Collected<Bool>()
        cancellation.onFire { late.append(true) }
        #expect(late.values == [true])
    }

    @Test func aDrainCancelsWhatIsStillInFlightAfterItsTimeout() async throws {
        let requests = InFlightRequests(drainTimeout: .milliseconds(50), logger: .init(label: "test"))
        let finished = RequestCancellation(), running = RequestCancellation()
        requests.track(finished)
        requests.track(running)
        requests.finished(finished)
        requests.beginDrain()
        #expect(running.reason == nil, "requests may finish during the drain")
        // The deadline is 50 ms; under a loaded test run the drain's timer can run late, so wait for it (bounded).
        let waitedUntil = ContinuousClock.now + .seconds(10)
        while running.reason == nil && ContinuousClock.now < waitedUntil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(running.reason == .draining)
        #expect(finished.reason == nil)
        let late = RequestCancellation()
        requests.track(late)
        #expect(late.reason == .draining, "a request that starts after the deadline is stopped at once")
    }
}
