import FairwayCore
import FairwayRedis
import Foundation
import Logging
import Metrics
import Synchronization

/// Budgets and key rates enforced globally through Redis (DESIGN §13): one script call admits, one settles.
///
/// A missing spend counter (first use, a new period, Redis restarted) is seeded from Postgres with set-if-absent —
/// once per counter per relay at a time — so concurrent seeds on many relays never add up. When Redis or Postgres
/// cannot answer, requests pass unenforced and `fairway_governance_unenforced_total` counts them: a budget must not
/// turn a dependency blip into an outage.
public struct RedisGovernance: Governance {
    let redis: RedisClient
    let spend: any SpendSource
    /// Microseconds since the epoch; the budget period is the one containing this instant.
    let clock: @Sendable () -> Int64
    let logger: Logger
    private let seeds = SeedFlights()
    private let unenforced = Counter(label: "fairway_governance_unenforced_total")
    private let refusals = Counter(label: "fairway_governance_refusals_total", dimensions: [("reason", "budget")])
    private let rateRefusals = Counter(label: "fairway_governance_refusals_total", dimensions: [("reason", "key_rate")])
    private let seeded = Counter(label: "fairway_budget_counters_seeded_total")

    public init(redis: RedisClient, spend: any SpendSource, logger: Logger, clock: @escaping @Sendable () -> Int64 = UnixClock.microseconds) {
        self.redis = redis
        self.spend = spend
        self.logger = logger
        self.clock = clock
    }

    public func admit(_ request: GovernanceRequest) async throws(GovernanceRefusal) -> (any GovernanceHold)? {
        guard request.isGoverned else { return nil }
        let plan = GatePlan(request, nowMicroseconds: clock())
        // A seed answers a missing counter; a second miss means it expired between seed and check: seed once more.
        for _ in 0..<3 {
            let reply: GateReply
            do {
                reply = GateReply(try await redis.evaluate(GovernanceScripts.gate, keys: plan.gateKeys, arguments: plan.gateArguments).strings)
            } catch {
                return passUnenforced(plan, "Redis did not answer the budget check", error: error)
            }
            switch reply {
            case .admitted(let tenantSpent, let keySpent):
                return RedisGovernanceHold(governance: self, plan: plan, remainingPicoUSD: plan.remaining(tenantSpent: tenantSpent, keySpent: keySpent))
            case .needsSeed(let owners):
                for owner in owners {
                    guard let budgeted = plan.budget(of: owner) else { continue }
                    guard await seed(budgeted) else { return passUnenforced(plan, "A spend counter could not be seeded", error: nil) }
                }
            case .overBudget(let owner):
                refusals.increment()
                guard let budgeted = plan.budget(of: owner) else { return nil }
                throw .budgetExceeded(owner: budgeted.owner, budget: budgeted.budget, resetsAt: budgeted.window.resetsAt)
            case .rateLimited(let tokens, let retryAfter):
                rateRefusals.increment()
                throw .keyRateLimited(tokens: tokens, retryAfterSeconds: retryAfter)
            case .malformed:
                return passUnenforced(plan, "The budget check answered something unexpected", error: nil)
            }
        }
        return passUnenforced(plan, "A spend counter kept disappearing", error: nil)
    }

    private func passUnenforced(_ plan: GatePlan, _ message: Logger.Message, error: (any Error)?) -> (any GovernanceHold)? {
        unenforced.increment()
        logger.warning(message, metadata: ["request_id": "\(plan.requestID.lowercaseText)", "error": "\(error.map { "\($0)" } ?? "")"])
        return nil
    }

    /// Seeds one counter from Postgres (joining a seed of the same counter already running here); true when the
    /// counter exists afterwards, whoever set it.
    private func seed(_ budgeted: GatePlan.Budgeted) async -> Bool {
        await seeds.run(budgeted.spendKey) { [self] in
            do {
                // A caller that found the counter missing may arrive just after another seed here set it.
                if try await redis.send(RedisCommand("EXISTS", budgeted.spendKey)).int == 1 { return true }
                let stored = try await spend.spend(of: budgeted.owner, since: budgeted.window.firstDay)
                let set = try await redis.evaluate(
                    GovernanceScripts.seed, keys: [budgeted.spendKey, budgeted.softKey],
                    arguments: [stored, budgeted.ttlMilliseconds, budgeted.budget.softPicoUSD ?? -1]
                )
                if set.int == 1 { seeded.increment() }
                return true
            } catch {
                logger.warning("Seeding a spend counter failed", metadata: ["counter": "\(budgeted.spendKey)", "error": "\(error)"])
                return false
            }
        }
    }

    /// Charges the real cost once per request id; retried once when Redis dropped the connection (the marker makes the
    /// retry harmless if the first call did land).
    func settle(_ plan: GatePlan, costPicoUSD: Int64, actualTokens: Int64) async -> GovernanceSettlement {
        let keys = plan.settleKeys()
        let arguments = plan.settleArguments(costPicoUSD: costPicoUSD, actualTokens: actualTokens)
        for attempt in 0..<2 {
            do {
                let reply = SettleReply(try await redis.evaluate(GovernanceScripts.settle, keys: keys, arguments: arguments).strings)
                guard !reply.duplicate else { return GovernanceSettlement(crossedSoftBudgets: [], remainingPicoUSD: nil) }
                var crossed: [BudgetOwner] = []
                if reply.tenantCrossed, let tenant = plan.tenant { crossed.append(tenant.owner) }
                if reply.keyCrossed, let key = plan.key { crossed.append(key.owner) }
                for owner in crossed {
                    Counter(label: "fairway_soft_budget_crossed_total", dimensions: [("owner", owner.kind)]).increment()
                    logger.notice("Soft budget crossed", metadata: ["owner": "\(owner.kind)", "id": "\(owner.id.lowercaseText)"])
                }
                return GovernanceSettlement(
                    crossedSoftBudgets: crossed, remainingPicoUSD: plan.remaining(tenantSpent: reply.tenantSpent, keySpent: reply.keySpent)
                )
            } catch {
                guard attempt == 0, error.isConnectivity else {
                    logger.error("Charging a request's cost failed", metadata: ["request_id": "\(plan.requestID.lowercaseText)", "error": "\(error)"])
                    break
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        return GovernanceSettlement(crossedSoftBudgets: [], remainingPicoUSD: nil)
    }
}

/// What settling a request did.
public struct GovernanceSettlement: Sendable, Equatable {
    public var crossedSoftBudgets: [BudgetOwner]
    /// Picodollars left under the tightest budget after the charge; nil when unknown or no budget applies.
    public var remainingPicoUSD: Int64?
}

/// A request's hold; settled once however many times `settle` is called.
final class RedisGovernanceHold: GovernanceHold {
    let governance: RedisGovernance
    let plan: GatePlan
    let remainingPicoUSD: Int64?
    private let settled = Atomic<Bool>(false)

    init(governance: RedisGovernance, plan: GatePlan, remainingPicoUSD: Int64?) {
        self.governance = governance
        self.plan = plan
        self.remainingPicoUSD = remainingPicoUSD
    }

    func settle(costPicoUSD: Int64, actualTokens: Int64) async -> GovernanceSettlement {
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return GovernanceSettlement(crossedSoftBudgets: [], remainingPicoUSD: nil) }
        // In a task of its own: a cancelled request must still be charged.
        let (governance, plan) = (self.governance, self.plan)
        return await Task { await governance.settle(plan, costPicoUSD: costPicoUSD, actualTokens: actualTokens) }.value
    }
}

/// One seed per counter at a time in this process; later callers wait for the running one.
final class SeedFlights: Sendable {
    private let running = Mutex<[String: Task<Bool, Never>]>([:])

    func run(_ key: String, _ body: @escaping @Sendable () async -> Bool) async -> Bool {
        let (task, started) = running.withLock { running -> (Task<Bool, Never>, Bool) in
            if let task = running[key] { return (task, false) }
            let task = Task { await body() }
            running[key] = task
            return (task, true)
        }
        let result = await task.value
        if started { running.withLock { $0[key] = nil } }
        return result
    }
}

extension RESPValue {
    /// An array reply's elements as text (integers in their decimal form).
    var strings: [String] {
        (array ?? []).map { $0.string ?? $0.int.map { String($0) } ?? "" }
    }
}
