import Testing

@testable import Relay

@Suite("Request cancellation")
struct RequestCancellationTests {
    /// A call that waits until it is stopped, as an upstream read does (bounded, so a broken stop fails the test).
    static func waitForStop(_ stop: UpstreamStop) async -> Bool {
        let giveUp = ContinuousClock.now + .seconds(10)
        while !stop.isStopped && ContinuousClock.now < giveUp { try? await Task.sleep(for: .milliseconds(5)) }
        return stop.isStopped
    }

    @Test func firingStopsTheRunningCallAndLaterHandlersRunAtOnce() async {
        let cancellation = RequestCancellation()
        let stop = UpstreamStop()
        let started = AsyncStream.makeStream(of: Void.self)
        let call = Task {
            await cancellation.run(until: .now + .seconds(60), stopping: stop) { () -> Bool in
                started.continuation.yield()
                return await Self.waitForStop(stop)
            }
        }
        for await _ in started.stream { break }
        #expect(!stop.isStopped)
        cancellation.fire(.clientLeft)
        #expect(await call.value, "the call saw its stop")
        #expect(cancellation.reason == .clientLeft)
        cancellation.fire(.draining)
        #expect(cancellation.reason == .clientLeft, "it fires once")
        let late = Collected<Bool>()
        cancellation.onFire { late.append(true) }
        #expect(late.values == [true])
    }

    @Test func theDeadlineAndTheCallersCancellationStopTheCall() async {
        let cancellation = RequestCancellation()
        let timed = UpstreamStop()
        let began = ContinuousClock.now
        #expect(await cancellation.run(until: .now + .milliseconds(50), stopping: timed) { await Self.waitForStop(timed) })
        #expect(ContinuousClock.now - began >= .milliseconds(50), "not before its deadline")
        #expect(cancellation.reason == nil, "a deadline stops the call, not the request")
        let cancelled = UpstreamStop()
        let call = Task { await cancellation.run(until: .now + .seconds(60), stopping: cancelled) { await Self.waitForStop(cancelled) } }
        call.cancel()
        #expect(await call.value)
    }

    @Test func firingCancelsAStepRunInATaskOfItsOwn() async {
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
