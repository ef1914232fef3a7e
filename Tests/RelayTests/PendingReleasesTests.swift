import Synchronization
import Testing

@testable import Relay

@Suite("Pending releases")
struct PendingReleasesTests {
    @Test func drainedReturnsAtOnceWhenNothingRunsAndOtherwiseWaitsForTheLast() async {
        let pending = PendingReleases()
        await pending.drained()
        let finished = Atomic<Int>(0)
        for delay in [100, 200, 300] {
            pending.run {
                try? await Task.sleep(for: .milliseconds(delay))
                finished.add(1, ordering: .relaxed)
            }
        }
        #expect(pending.count == 3)
        await pending.drained()
        #expect(finished.load(ordering: .relaxed) == 3, "the drain ended only after every release")
        #expect(pending.count == 0)
        await pending.drained()
    }
}
