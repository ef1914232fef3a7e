import FairShare
import Testing

@Suite("Fair-share math")
struct FairShareMathTests {
    @Test func flatSharesFollowWeightsOverActiveTenantsOnly() {
        let calculator = FairShareCalculator(mode: .flat)
        let shares = calculator.shares([ShareInput(tenant: "a", weight: 300), ShareInput(tenant: "b", weight: 100)])
        #expect(abs(shares["a"]! - 0.75) < 1e-12)
        #expect(abs(shares["b"]! - 0.25) < 1e-12)
        // An inactive tenant is simply not in the input: it takes no share.
        #expect(calculator.shares([ShareInput(tenant: "b", weight: 100)]) == ["b": 1])
        #expect(calculator.shares([]).isEmpty)
    }

    @Test func hierarchicalSharesSplitGroupsFirst() {
        let calculator = FairShareCalculator(mode: .hierarchical, groupWeights: ["g1": 1, "g2": 1])
        let shares = calculator.shares([
            ShareInput(tenant: "a", weight: 100, group: "g1"),
            ShareInput(tenant: "b", weight: 100, group: "g1"),
            ShareInput(tenant: "c", weight: 100, group: "g2"),
        ])
        #expect(abs(shares["c"]! - 0.5) < 1e-12)
        #expect(abs(shares["a"]! - 0.25) < 1e-12)
        #expect(abs(shares.values.reduce(0, +) - 1) < 1e-12)
        // Ungrouped tenants form a default group of weight 100.
        let mixed = FairShareCalculator(groupWeights: ["g": 300]).shares([
            ShareInput(tenant: "x", weight: 1, group: "g"), ShareInput(tenant: "y", weight: 50), ShareInput(tenant: "z", weight: 150),
        ])
        #expect(abs(mixed["x"]! - 0.75) < 1e-12)
        #expect(abs(mixed["y"]! - 0.0625) < 1e-12)
        #expect(abs(mixed["z"]! - 0.1875) < 1e-12)
        // Without groups hierarchical equals flat.
        let plain = [ShareInput(tenant: "a", weight: 3), ShareInput(tenant: "b", weight: 1)]
        #expect(FairShareCalculator(mode: .hierarchical).shares(plain) == FairShareCalculator(mode: .flat).shares(plain))
    }

    @Test func usageHalvesEveryHalfLife() {
        let decay = DecayedUsage(halfLife: 300, epoch: 1_000)
        let stored = decay.increment(cost: 800, at: 1_100)
        #expect(abs(decay.usage(stored: stored, at: 1_100) - 800) < 1e-9)
        #expect(abs(decay.usage(stored: stored, at: 1_400) - 400) < 1e-9)
        #expect(abs(decay.usage(stored: stored, at: 1_700) - 200) < 1e-9)
    }

    @Test func rebasingPreservesUsageAndOrder() {
        let decay = DecayedUsage(halfLife: 10, epoch: 0)
        let stored = ["a": decay.increment(cost: 50, at: 300), "b": decay.increment(cost: 70, at: 310), "c": decay.increment(cost: 10, at: 320)]
        #expect(decay.needsRebase(at: 320))
        let (rebased, values) = decay.rebased(stored, to: 320)
        #expect(!rebased.needsRebase(at: 320))
        for tenant in stored.keys {
            let before = decay.usage(stored: stored[tenant]!, at: 330)
            let after = rebased.usage(stored: values[tenant]!, at: 330)
            #expect(abs(before - after) / before < 1e-9, "\(tenant)")
        }
        let order = { (values: [String: Double]) in values.sorted { $0.value < $1.value }.map(\.key) }
        #expect(order(stored) == order(values))
    }

    @Test func priorityIsUsageOverShareLowerFirst() {
        // A with three times B's share may use three times as much before B goes first.
        let a = FairShareCalculator.priority(usage: 2_900, share: 0.75)
        let b = FairShareCalculator.priority(usage: 1_000, share: 0.25)
        #expect(a < b)
        #expect(FairShareCalculator.priority(usage: 3_100, share: 0.75) > b)
        #expect(FairShareCalculator.priority(usage: 10, share: nil) == 0)
    }

    @Test func bucketRefillsContinuouslyAndSettlesWithRealUsage() {
        var bucket = TokenBucket(capacity: 600, period: 60, now: 0)
        #expect(bucket.reserve(500, now: 0) == nil)
        let wait = bucket.reserve(200, now: 0)
        #expect(wait == 10, "100 tokens short at 10 tokens/s")
        #expect(bucket.reserve(200, now: 10) == nil)
        // Reserved 200 but used 50: 150 come back.
        bucket.settle(reserved: 200, actual: 50, now: 10)
        #expect(bucket.tokens == 150)
        // Used more than reserved: the bucket goes into debt and refills from there.
        bucket.settle(reserved: 0, actual: 300, now: 10)
        #expect(bucket.tokens == -150)
        #expect(bucket.reserve(100, now: 20) != nil)
        #expect(bucket.reserve(100, now: 35) == nil)
        // An oversized request passes on a full bucket instead of waiting forever.
        var fresh = TokenBucket(capacity: 100, now: 0)
        #expect(fresh.reserve(5_000, now: 0) == nil)
    }
}
