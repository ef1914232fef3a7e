import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import Relay

/// Spend stored "in Postgres" as a test sets it; counts the seeds that read it.
final class FakeSpendSource: SpendSource {
    let stored = Mutex<[BudgetOwner: Int64]>([:])
    let reads = Atomic<Int>(0)
    let delay: Duration

    init(delay: Duration = .zero) { self.delay = delay }

    func spend(of owner: BudgetOwner, since firstDay: CivilDay?) async throws -> Int64 {
        reads.add(1, ordering: .relaxed)
        if delay > .zero { try await Task.sleep(for: delay) }
        return stored.withLock { $0[owner] ?? 0 }
    }
}

/// A settable wall clock.
final class FakeClock: Sendable {
    let now: Atomic<Int64>
    init(_ text: String) { now = Atomic(GovernancePlanTests.micros(text)) }
    func advance(seconds: Int64) { now.add(seconds * 1_000_000, ordering: .relaxed) }
    var read: @Sendable () -> Int64 { { self.now.load(ordering: .relaxed) } }
}

@Suite("Budgets and key limits in Redis", .enabled(if: TestServers.enabled))
struct RedisGovernanceTests {
    static func with(_ body: @Sendable (RedisServerProcess, RedisClient) async throws -> Void) async throws {
        let server = try await RedisServerProcess()
        let client = RedisClient(configuration: server.configuration)
        do {
            try await body(server, client)
        } catch {
            client.close()
            await server.stop()
            throw error
        }
        client.close()
        await server.stop()
    }

    static func governance(_ redis: RedisClient, _ spend: FakeSpendSource, _ clock: FakeClock) -> RedisGovernance {
        RedisGovernance(redis: redis, spend: spend, logger: Logger(label: "test"), clock: clock.read)
    }

    static func request(_ key: AuthenticatedKey, tokens: Int64 = 10) -> GovernanceRequest {
        GovernanceRequest(key: key, requestID: UUID(), estimatedTokens: tokens)
    }

    @Test func aDailyBudgetStopsAtItsLimitAndTheNextDayOpensIt() async throws {
        try await Self.with { _, redis in
            let clock = FakeClock("2026-12-01T23:59:00Z")
            let spend = FakeSpendSource()
            let governance = Self.governance(redis, spend, clock)
            let key = GovernancePlanTests.key(tenantBudget: Budget(limitPicoUSD: 1000, period: .daily))
            var remaining: [Int64?] = []
            for _ in 0..<3 {
                let hold = try #require(try await governance.admit(Self.request(key)))
                remaining.append(hold.remainingPicoUSD)
                _ = await hold.settle(costPicoUSD: 400, actualTokens: 5)
            }
            #expect(remaining == [1000, 600, 200])
            await #expect(throws: GovernanceRefusal.budgetExceeded(
                owner: .tenant(key.tenant.id), budget: Budget(limitPicoUSD: 1000, period: .daily),
                resetsAt: CivilDay(year: 2026, month: 12, day: 2)
            )) {
                _ = try await governance.admit(Self.request(key))
            }
            // Overshoot is the one request admitted under the limit while it was in flight.
            let window = BudgetPeriod.daily.window(atMicroseconds: clock.read())
            #expect(try await redis.send("GET", GovernanceKeys.spend(.tenant(key.tenant.id), window: window)).string == "1200")

            clock.advance(seconds: 61)
            let next = try #require(try await governance.admit(Self.request(key)))
            #expect(next.remainingPicoUSD == 1000)
        }
    }

    @Test func concurrentSeedsOnTwoRelaysSetTheCounterOnce() async throws {
        try await Self.with { server, redis in
            let second = RedisClient(configuration: server.configuration)
            defer { second.close() }
            let clock = FakeClock("2026-12-15T10:00:00Z")
            let spend = FakeSpendSource(delay: .milliseconds(50))
            let key = GovernancePlanTests.key(tenantBudget: Budget(limitPicoUSD: 1_000_000, period: .monthly))
            spend.stored.withLock { $0[.tenant(key.tenant.id)] = 5000 }
            let relays = [Self.governance(redis, spend, clock), Self.governance(second, spend, clock)]
            let holds = try await withThrowingTaskGroup(of: (any GovernanceHold)?.self) { group in
                for index in 0..<40 {
                    group.addTask { try await relays[index % 2].admit(Self.request(key)) }
                }
                var holds: [any GovernanceHold] = []
                for try await hold in group { if let hold { holds.append(hold) } }
                return holds
            }
            #expect(holds.count == 40)
            // One Postgres read per relay at most: seeds of one counter share a flight within a process.
            #expect(spend.reads.load(ordering: .relaxed) <= 2)
            let counter = GovernanceKeys.spend(.tenant(key.tenant.id), window: BudgetPeriod.monthly.window(atMicroseconds: clock.read()))
            #expect(try await redis.send("GET", counter).string == "5000")
            for hold in holds { _ = await hold.settle(costPicoUSD: 10, actualTokens: 1) }
            #expect(try await redis.send("GET", counter).string == "5400")
            let ttl = try await redis.send("PTTL", counter).int ?? 0
            // To 2027-01-01 plus a day: a little over 17 days.
            #expect(ttl > 17 * 86_400_000 && ttl <= 18 * 86_400_000)
        }
    }

    @Test func aRetriedSettlementChargesOnce() async throws {
        try await Self.with { _, redis in
            let clock = FakeClock("2026-12-15T10:00:00Z")
            let governance = Self.governance(redis, FakeSpendSource(), clock)
            let key = GovernancePlanTests.key(limits: KeyLimits(budget: Budget(limitPicoUSD: 10_000, period: .total)))
            let request = Self.request(key)
            _ = try #require(try await governance.admit(request))
            let plan = GatePlan(request, nowMicroseconds: clock.read())
            let first = await governance.settle(plan, costPicoUSD: 700, actualTokens: 3)
            let again = await governance.settle(plan, costPicoUSD: 700, actualTokens: 3)
            #expect(first.remainingPicoUSD == 9300)
            #expect(again.remainingPicoUSD == nil)
            let counter = GovernanceKeys.spend(.key(key.key.id), window: BudgetPeriod.total.window(atMicroseconds: 0))
            #expect(try await redis.send("GET", counter).string == "700")
        }
    }

    @Test func aSoftBudgetIsReportedOncePerPeriod() async throws {
        try await Self.with { _, redis in
            let clock = FakeClock("2026-12-15T10:00:00Z")
            let governance = Self.governance(redis, FakeSpendSource(), clock)
            let key = GovernancePlanTests.key(tenantBudget: Budget(limitPicoUSD: 10_000, period: .weekly, softPicoUSD: 500))
            var crossings: [[BudgetOwner]] = []
            for _ in 0..<4 {
                let hold = try #require(try await governance.admit(Self.request(key)))
                crossings.append(await hold.settle(costPicoUSD: 300, actualTokens: 1).crossedSoftBudgets)
            }
            #expect(crossings == [[], [.tenant(key.tenant.id)], [], []])
            clock.advance(seconds: 7 * 86_400)
            let hold = try #require(try await governance.admit(Self.request(key)))
            _ = await hold.settle(costPicoUSD: 300, actualTokens: 1)
            let crossed = try #require(try await governance.admit(Self.request(key)))
            #expect(await crossed.settle(costPicoUSD: 300, actualTokens: 1).crossedSoftBudgets == [.tenant(key.tenant.id)])
        }
    }

    @Test func keyRateLimitsHoldAcrossRelaysAndTokensAreRefunded() async throws {
        try await Self.with { server, redis in
            let second = RedisClient(configuration: server.configuration)
            defer { second.close() }
            let clock = FakeClock("2026-12-15T10:00:00Z")
            let relays = [Self.governance(redis, FakeSpendSource(), clock), Self.governance(second, FakeSpendSource(), clock)]
            let limited = GovernancePlanTests.key(limits: KeyLimits(requestsPerMinute: 5))
            var admitted = 0
            var refused: [GovernanceRefusal] = []
            for index in 0..<8 {
                do throws(GovernanceRefusal) {
                    if try await relays[index % 2].admit(Self.request(limited)) != nil { admitted += 1 }
                } catch {
                    refused.append(error)
                }
            }
            #expect(admitted == 5)
            #expect(refused.count == 3)
            if case .keyRateLimited(let tokens, let retryAfter) = refused.first {
                #expect(!tokens && retryAfter >= 1 && retryAfter <= 12)
            } else {
                Issue.record("expected a key rate refusal, got \(refused)")
            }

            // A TPM key: the estimate is reserved at admission and the unused part given back at settlement.
            let tokens = GovernancePlanTests.key(limits: KeyLimits(tokensPerMinute: 1000))
            let hold = try #require(try await relays[0].admit(Self.request(tokens, tokens: 900)))
            await #expect(throws: GovernanceRefusal.self) { _ = try await relays[1].admit(Self.request(tokens, tokens: 900)) }
            _ = await hold.settle(costPicoUSD: 0, actualTokens: 100)
            #expect(try await relays[1].admit(Self.request(tokens, tokens: 800)) != nil)
        }
    }

    @Test func withRedisDownRequestsPassUnenforced() async throws {
        try await Self.with { server, redis in
            let governance = Self.governance(redis, FakeSpendSource(), FakeClock("2026-12-15T10:00:00Z"))
            let key = GovernancePlanTests.key(tenantBudget: Budget(limitPicoUSD: 0, period: .daily))
            await #expect(throws: GovernanceRefusal.self) { _ = try await governance.admit(Self.request(key)) }
            await server.stop()
            let passed = try await governance.admit(Self.request(key))
            #expect(passed == nil)
        }
    }
}
