import FairwayCore
import Foundation
import Testing

@testable import Relay

/// The slot pool's rules as a pure value, and the ledger that carries its requests' usage to Redis.
@Suite("Slot pool and usage ledger")
struct SlotPoolTests {
    static let settings = SlotPoolState.Settings(idle: .milliseconds(100), maxAge: .seconds(1), contentionWindow: .seconds(1))
    static let deployment = Deployment(
        id: UUID(), modelName: "m", provider: .openai, upstreamModel: "u", apiBase: "http://x/v1", admissionWeight: 1, maxConcurrency: 4
    )
    static let tenant = Tenant(id: UUID(), name: "t")
    static let request = AdmissionRequest(tenant: tenant, deployment: deployment, estimatedTokens: 10, requestID: UUID())

    static func slot(_ id: String, granted: ContinuousClock.Instant) -> SlotPoolState.Slot {
        SlotPoolState.Slot(lease: .init(id: id, deploymentSlots: "s", tenantSlots: "t"), granted: granted, owner: request)
    }

    @Test func aFinishedSlotIsTakenAgainNewestFirst() {
        var pool = SlotPoolState(settings: Self.settings)
        let t0 = ContinuousClock.now
        #expect(pool.take(Self.deployment.id, now: t0) == nil)
        #expect(pool.put(Self.slot("a", granted: t0), deployment: Self.deployment.id, now: t0) == .kept)
        #expect(pool.put(Self.slot("b", granted: t0), deployment: Self.deployment.id, now: t0) == .kept)
        #expect(pool.take(UUID(), now: t0) == nil, "another deployment's slot is not handed out")
        #expect(pool.take(Self.deployment.id, now: t0 + .milliseconds(5))?.lease.id == "b")
        #expect(pool.take(Self.deployment.id, now: t0 + .milliseconds(5))?.lease.id == "a")
        #expect(pool.take(Self.deployment.id, now: t0 + .milliseconds(5)) == nil)
        #expect(pool.idleCount == 0)
    }

    @Test func anIdleSlotGoesBackAfterTheIdleTime() {
        var pool = SlotPoolState(settings: Self.settings)
        let t0 = ContinuousClock.now
        _ = pool.put(Self.slot("a", granted: t0), deployment: Self.deployment.id, now: t0)
        #expect(pool.expire(now: t0 + .milliseconds(99)).isEmpty)
        #expect(pool.expire(now: t0 + .milliseconds(100)).map(\.lease.id) == ["a"])
        #expect(pool.take(Self.deployment.id, now: t0 + .milliseconds(100)) == nil)
    }

    @Test func aSlotIsReusedForAtMostItsMaxAgeAfterRedisGrantedIt() {
        var pool = SlotPoolState(settings: Self.settings)
        let t0 = ContinuousClock.now
        // Kept while young, however often it is reused.
        #expect(pool.put(Self.slot("a", granted: t0), deployment: Self.deployment.id, now: t0 + .milliseconds(950)) == .kept)
        #expect(pool.take(Self.deployment.id, now: t0 + .milliseconds(1000)) == nil, "an aged slot is not handed out")
        #expect(pool.expire(now: t0 + .milliseconds(1000)).map(\.lease.id) == ["a"], "it goes back to Redis")
        #expect(pool.put(Self.slot("b", granted: t0), deployment: Self.deployment.id, now: t0 + .seconds(1)) == .release)
    }

    @Test func contentionGivesEveryIdleSlotBackAndKeepsNoneForTheWindow() {
        var pool = SlotPoolState(settings: Self.settings)
        let t0 = ContinuousClock.now
        let other = UUID()
        _ = pool.put(Self.slot("a", granted: t0), deployment: Self.deployment.id, now: t0)
        _ = pool.put(Self.slot("b", granted: t0), deployment: Self.deployment.id, now: t0)
        _ = pool.put(Self.slot("c", granted: t0), deployment: other, now: t0)
        #expect(Set(pool.contended(Self.deployment.id, now: t0).map(\.lease.id)) == ["a", "b"])
        #expect(pool.put(Self.slot("d", granted: t0), deployment: Self.deployment.id, now: t0 + .milliseconds(500)) == .release)
        #expect(pool.take(Self.deployment.id, now: t0 + .milliseconds(500)) == nil)
        #expect(pool.take(other, now: t0 + .milliseconds(10))?.lease.id == "c", "other deployments are not affected")
        let after = t0 + .seconds(1)
        #expect(pool.put(Self.slot("e", granted: after), deployment: Self.deployment.id, now: after) == .kept)
    }

    @Test func aClosedOrDisabledPoolKeepsNothing() {
        let t0 = ContinuousClock.now
        var disabled = SlotPoolState(settings: .init(idle: .zero, maxAge: .seconds(1), contentionWindow: .seconds(1)))
        #expect(disabled.put(Self.slot("a", granted: t0), deployment: Self.deployment.id, now: t0) == .release)
        var pool = SlotPoolState(settings: Self.settings)
        _ = pool.put(Self.slot("a", granted: t0), deployment: Self.deployment.id, now: t0)
        #expect(pool.close().map(\.lease.id) == ["a"])
        #expect(pool.put(Self.slot("b", granted: t0), deployment: Self.deployment.id, now: t0) == .release)
        #expect(pool.take(Self.deployment.id, now: t0) == nil)
    }

    @Test func onlyRequestsLimitedByTheDeploymentsConcurrencyAlonePool() {
        let pool = SlotPool(settings: Self.settings)
        #expect(pool.accepts(Self.request))
        var request = Self.request
        request.tenant.maxConcurrency = 2
        #expect(!pool.accepts(request), "a tenant cap is counted in Redis per request")
        request = Self.request
        request.tenant.tokensPerMinute = 1000
        #expect(!pool.accepts(request), "a TPM quota is charged in Redis per request")
        request = Self.request
        request.deployment.rpmLimit = 60
        #expect(!pool.accepts(request))
        request = Self.request
        request.deployment.tpmLimit = 6000
        #expect(!pool.accepts(request))
        request = Self.request
        request.deployment.maxConcurrency = nil
        #expect(!pool.accepts(request), "nothing scarce: nothing to pool")
        #expect(!SlotPool(settings: .init(idle: .zero, maxAge: .seconds(1), contentionWindow: .seconds(1))).accepts(Self.request))
    }

    @Test func theLedgerAddsCostsAndTakesEstimatesBackByEpoch() {
        var ledger = UsageLedger()
        let (a, b) = (UUID(), UUID())
        ledger.charge(a, cost: 20)
        ledger.refund(a, charged: "300", epoch: "1700000000.5")
        ledger.charge(a, cost: 5)
        ledger.refund(a, charged: "100", epoch: "1700000000.5")
        ledger.refund(a, charged: "7", epoch: "1700009000.25")
        ledger.refund(b, charged: "0", epoch: "1700000000.5")
        let entries = ledger.take()
        #expect(ledger.isEmpty)
        #expect(entries[a] == UsageLedger.Entry(cost: 25, refunds: ["1700000000.5": 400, "1700009000.25": 7]))
        #expect(entries[b] == UsageLedger.Entry(cost: 0, refunds: [:]), "a tenant that used nothing is still active")
        let rows = UsageLedger.rows(entries)
        let expectedA = [
            a.lowercaseText, "25.0", "400.0", "1700000000.5",
            a.lowercaseText, "0.0", "7.0", "1700009000.25",
        ]
        let expectedB = [b.lowercaseText, "0.0", "0", "0"]
        let sorted = a.lowercaseText < b.lowercaseText ? expectedA + expectedB : expectedB + expectedA
        #expect(rows == sorted, "the cost is added once, each epoch's estimate taken back once")
    }
}
