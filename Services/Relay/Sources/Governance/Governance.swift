import FairwayCore
import Foundation

/// The limits of DESIGN §13 that are not admission: spend budgets (tenant and key) and a key's own request and token
/// rates. Asked once per generating request, before admission; whoever gets a ``GovernanceHold`` settles it once.
public protocol Governance: Sendable {
    /// Nil when nothing applies to this key (no Redis round trip at all).
    func admit(_ request: GovernanceRequest) async throws(GovernanceRefusal) -> (any GovernanceHold)?
}

public struct GovernanceRequest: Sendable {
    public var key: AuthenticatedKey
    public var requestID: UUID
    public var estimatedTokens: Int64

    public init(key: AuthenticatedKey, requestID: UUID, estimatedTokens: Int64) {
        self.key = key
        self.requestID = requestID
        self.estimatedTokens = estimatedTokens
    }

    /// The budgets that apply, tenant's first.
    var budgets: [(owner: BudgetOwner, budget: Budget)] {
        var budgets: [(BudgetOwner, Budget)] = []
        if let budget = key.tenant.budget { budgets.append((.tenant(key.tenant.id), budget)) }
        if let budget = key.key.limits.budget { budgets.append((.key(key.key.id), budget)) }
        return budgets
    }

    var isGoverned: Bool {
        key.tenant.budget != nil || key.key.limits.budget != nil
            || key.key.limits.requestsPerMinute != nil || key.key.limits.tokensPerMinute != nil
    }
}

/// Why governance said no: 429 either way, with a type saying which.
public enum GovernanceRefusal: Error, Sendable, Equatable {
    case budgetExceeded(owner: BudgetOwner, budget: Budget, resetsAt: CivilDay?)
    case keyRateLimited(tokens: Bool, retryAfterSeconds: Int)
}

/// A request's claim on its budgets and key buckets, settled once with the real cost and tokens.
public protocol GovernanceHold: Sendable {
    /// Picodollars left under the tightest budget when the request was admitted; nil when no budget applies.
    var remainingPicoUSD: Int64? { get }
    /// Charges the cost to every budget (once per request id, however often it is called) and corrects the key's
    /// token bucket.
    func settle(costPicoUSD: Int64, actualTokens: Int64) async -> GovernanceSettlement
}

/// No limits anywhere: every request passes (tests of other features, and keys without limits).
public struct UngovernedAccess: Governance {
    public init() {}
    public func admit(_ request: GovernanceRequest) async throws(GovernanceRefusal) -> (any GovernanceHold)? { nil }
}
