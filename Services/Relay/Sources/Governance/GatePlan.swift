import FairwayCore
import FairwayRedis
import Foundation

/// Everything one request's governance script calls need, worked out once from the key and the clock: the budget
/// windows, the Redis keys and the typed arguments. Pure, so the period arithmetic is tested without Redis.
struct GatePlan: Sendable {
    struct Budgeted: Sendable {
        var owner: BudgetOwner
        var budget: Budget
        var window: BudgetWindow
        var spendKey: String
        var softKey: String
        /// How long the period's counters live: to the reset and a day past it (clock skew, late settlements).
        var ttlMilliseconds: Int64
    }

    var tenant: Budgeted?
    var key: Budgeted?
    var requestsPerMinute: Int
    var tokensPerMinute: Int64
    var estimatedTokens: Int64
    var requestID: UUID
    var tenantID: UUID
    var keyID: UUID

    /// A `total` budget's counter is re-seeded from Postgres after a week, so it never lives forever.
    static let totalTTLMilliseconds: Int64 = 7 * 86_400_000

    init(_ request: GovernanceRequest, nowMicroseconds now: Int64) {
        func budgeted(_ owner: BudgetOwner, _ budget: Budget?) -> Budgeted? {
            guard let budget else { return nil }
            let window = budget.period.window(atMicroseconds: now)
            let ttl = window.resetsAt.map { ($0.adding(days: 1).startMicroseconds - now) / 1000 } ?? Self.totalTTLMilliseconds
            return Budgeted(
                owner: owner, budget: budget, window: window, spendKey: GovernanceKeys.spend(owner, window: window),
                softKey: GovernanceKeys.softAlert(owner, window: window), ttlMilliseconds: max(1000, ttl)
            )
        }
        let limits = request.key.key.limits
        tenant = budgeted(.tenant(request.key.tenant.id), request.key.tenant.budget)
        key = budgeted(.key(request.key.key.id), limits.budget)
        requestsPerMinute = limits.requestsPerMinute ?? 0
        tokensPerMinute = limits.tokensPerMinute ?? 0
        estimatedTokens = max(0, request.estimatedTokens)
        requestID = request.requestID
        tenantID = request.key.tenant.id
        keyID = request.key.key.id
    }

    var budgets: [Budgeted] { [tenant, key].compactMap { $0 } }

    func budget(of kind: GateReply.Owner) -> Budgeted? { kind == .tenant ? tenant : key }

    var gateKeys: [String] {
        [
            tenant?.spendKey ?? GovernanceKeys.spend(.tenant(tenantID), window: BudgetPeriod.total.window(atMicroseconds: 0)),
            key?.spendKey ?? GovernanceKeys.spend(.key(keyID), window: BudgetPeriod.total.window(atMicroseconds: 0)),
            GovernanceKeys.requestBucket(key: keyID), GovernanceKeys.tokenBucket(key: keyID),
        ]
    }

    var gateArguments: [any RedisArgument] {
        [tenant?.budget.limitPicoUSD ?? -1, key?.budget.limitPicoUSD ?? -1, requestsPerMinute, tokensPerMinute, estimatedTokens]
    }

    func settleKeys() -> [String] {
        let unused = GovernanceKeys.spend(.key(keyID), window: BudgetPeriod.total.window(atMicroseconds: 0))
        return [
            GovernanceKeys.charged(.tenant(tenantID), requestID: requestID),
            tenant?.spendKey ?? unused, key?.spendKey ?? unused, tenant?.softKey ?? unused, key?.softKey ?? unused,
            GovernanceKeys.tokenBucket(key: keyID),
        ]
    }

    func settleArguments(costPicoUSD: Int64, actualTokens: Int64) -> [any RedisArgument] {
        [
            max(0, costPicoUSD), 86_400, tenant?.budget.softPicoUSD ?? -1, key?.budget.softPicoUSD ?? -1,
            tenant?.ttlMilliseconds ?? 1000, key?.ttlMilliseconds ?? 1000, tokensPerMinute, estimatedTokens,
            max(0, actualTokens), tenant == nil ? 0 : 1, key == nil ? 0 : 1,
        ]
    }

    /// Picodollars left under the tightest budget, from spend as Redis reported it.
    func remaining(tenantSpent: Int64?, keySpent: Int64?) -> Int64? {
        let left = [
            tenant.map { $0.budget.limitPicoUSD.saturatingSubtracting(tenantSpent ?? 0) },
            key.map { $0.budget.limitPicoUSD.saturatingSubtracting(keySpent ?? 0) },
        ].compactMap { $0 }
        return left.min().map { max(0, $0) }
    }
}

/// A governance script's reply, decoded from its tagged array.
enum GateReply: Equatable {
    enum Owner: String { case tenant, key }

    case admitted(tenantSpent: Int64?, keySpent: Int64?)
    case needsSeed([Owner])
    case overBudget(Owner)
    case rateLimited(tokens: Bool, retryAfterSeconds: Int)
    case malformed

    init(_ fields: [String]) {
        guard let tag = fields.first else { self = .malformed; return }
        switch tag {
        case "ok" where fields.count >= 3:
            self = .admitted(tenantSpent: Int64(fields[1]), keySpent: Int64(fields[2]))
        case "seed":
            let owners = fields.dropFirst().compactMap(Owner.init(rawValue:))
            self = owners.isEmpty ? .malformed : .needsSeed(owners)
        case "budget" where fields.count >= 2:
            self = Owner(rawValue: fields[1]).map(GateReply.overBudget) ?? .malformed
        case "rpm", "tpm":
            self = .rateLimited(tokens: tag == "tpm", retryAfterSeconds: max(1, Int(fields.count > 1 ? fields[1] : "") ?? 1))
        default:
            self = .malformed
        }
    }
}

/// A settle script's reply: the spend after the charge and the soft budgets it crossed.
struct SettleReply: Equatable {
    var duplicate: Bool
    var tenantSpent: Int64?
    var keySpent: Int64?
    var tenantCrossed: Bool
    var keyCrossed: Bool

    init(_ fields: [String]) {
        duplicate = fields.first != "ok"
        func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
        tenantSpent = Int64(field(1))
        keySpent = Int64(field(2))
        tenantCrossed = field(3) == "1"
        keyCrossed = field(4) == "1"
    }
}
