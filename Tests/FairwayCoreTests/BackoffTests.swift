import FairwayCore
import Testing

@Suite("Backoff")
struct BackoffTests {
    @Test func grows_and_caps() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), multiplier: 2)
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 3) == .milliseconds(800))
        #expect(backoff.ceiling(attempt: 4) == .seconds(1))
        #expect(backoff.ceiling(attempt: 1_000) == .seconds(1))
    }

    @Test func jitterStaysWithinHalfAndCeiling() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        for attempt in 0..<8 {
            let ceiling = backoff.ceiling(attempt: attempt)
            for _ in 0..<50 {
                let delay = backoff.delay(attempt: attempt)
                #expect(delay <= ceiling)
                #expect(delay >= ceiling / 2)
            }
        }
    }
}
