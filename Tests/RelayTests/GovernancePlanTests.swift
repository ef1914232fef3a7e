import FairwayCore
import Foundation
import Testing

@testable import Relay

@Suite("Governance plan and replies")
struct GovernancePlanTests {
    static func micros(_ text: String) -> Int64 {
        let date = (try? Date.ISO8601FormatStyle().parse(text)) ?? Date(timeIntervalSince1970: 0)
        return Int64(date.timeIntervalSince1970 * 1_000_000)
    }

    static func key(tenantBudget: Budget? = nil, limits: KeyLimits = KeyLimits()) -> AuthenticatedKey {
        let tenant = Tenant(id: UUID(), name: "t", budget: tenantBudget)
        return AuthenticatedKey(key: StoredKey(id: UUID(), tenantID: tenant.id, limits: limits), tenant: tenant)
    }

    @Test func aKeyWithoutLimitsIsNotGoverned() {
        let request = GovernanceRequest(key: Self.key(), requestID: UUID(), estimatedTokens: 10)
        #expect(!request.isGoverned)
        #expect(GovernanceRequest(key: Self.key(limits: KeyLimits(requestsPerMinute: 5)), requestID: UUID(), estimatedTokens: 1).isGoverned)
    }

    @Test func countersLiveUntilADayAfterTheReset() throws {
        let now = Self.micros("2026-12-01T12:00:00Z")
        let budget = Budget(limitPicoUSD: 5 * PicoDollars.perDollar, period: .daily, softPicoUSD: PicoDollars.perDollar)
        let request = GovernanceRequest(key: Self.key(tenantBudget: budget), requestID: UUID(), estimatedTokens: 7)
        let plan = GatePlan(request, nowMicroseconds: now)
        let tenant = try #require(plan.tenant)
        #expect(tenant.spendKey == "fw:{ten:\(request.key.tenant.id.lowercaseText)}:spend:d2026-12-01")
        #expect(tenant.ttlMilliseconds == Int64(36 * 3_600_000))
        #expect(plan.key == nil)
        #expect(plan.remaining(tenantSpent: 6 * PicoDollars.perDollar, keySpent: nil) == 0)
        #expect(plan.remaining(tenantSpent: 2 * PicoDollars.perDollar, keySpent: nil) == 3 * PicoDollars.perDollar)
    }

    @Test func theTighterBudgetIsWhatRemains() {
        let request = GovernanceRequest(
            key: Self.key(
                tenantBudget: Budget(limitPicoUSD: 100, period: .monthly),
                limits: KeyLimits(budget: Budget(limitPicoUSD: 30, period: .total))
            ),
            requestID: UUID(), estimatedTokens: 1
        )
        let plan = GatePlan(request, nowMicroseconds: 0)
        #expect(plan.remaining(tenantSpent: 10, keySpent: 25) == 5)
        #expect(plan.remaining(tenantSpent: 90, keySpent: 0) == 10)
        #expect(plan.key?.ttlMilliseconds == GatePlan.totalTTLMilliseconds)
    }

    @Test func repliesDecodeByTagAndAnythingElseIsMalformed() {
        #expect(GateReply(["ok", "12", ""]) == .admitted(tenantSpent: 12, keySpent: nil))
        #expect(GateReply(["seed", "tenant", "key"]) == .needsSeed([.tenant, .key]))
        #expect(GateReply(["budget", "key"]) == .overBudget(.key))
        #expect(GateReply(["rpm", "7"]) == .rateLimited(tokens: false, retryAfterSeconds: 7))
        #expect(GateReply(["tpm", "0"]) == .rateLimited(tokens: true, retryAfterSeconds: 1))
        #expect(GateReply([]) == .malformed)
        #expect(GateReply(["seed"]) == .malformed)
        #expect(GateReply(["budget", "nobody"]) == .malformed)
        #expect(GateReply(["1"]) == .malformed)
        let settled = SettleReply(["ok", "9223372036854775807", "", "1", "0"])
        #expect(!settled.duplicate && settled.tenantSpent == Int64.max && settled.keySpent == nil && settled.tenantCrossed && !settled.keyCrossed)
        #expect(SettleReply(["duplicate"]).duplicate)
    }

    @Test func modelAccessIsByTheNameTheClientSends() {
        let open = KeyLimits()
        #expect(open.allows("anything"))
        #expect(KeyLimits(allowedModels: []).allows("anything"))
        let limited = KeyLimits(allowedModels: ["gpt-group", "small"])
        #expect(limited.allows("gpt-group") && limited.allows("small"))
        #expect(!limited.allows("large") && !limited.allows("GPT-GROUP") && !limited.allows(""))
    }

    @Test func refusalsAreOpenAIShaped429s() {
        let budget = Budget(limitPicoUSD: 1_500_000_000_000, period: .monthly)
        let error = GovernanceRefusal.budgetExceeded(owner: .key(UUID()), budget: budget, resetsAt: CivilDay(year: 2027, month: 1, day: 1)).relayError
        #expect(error.status.code == 429 && error.type == "budget_exceeded" && error.code == "budget_exceeded")
        #expect(error.message == "The API key's monthly budget of $1.5 is used up; it resets at 2027-01-01T00:00:00Z.")
        let rate = GovernanceRefusal.keyRateLimited(tokens: false, retryAfterSeconds: 3).relayError
        #expect(rate.status.code == 429 && rate.type == "rate_limit_exceeded" && rate.retryAfterSeconds == 3)
    }
}
