import FairwayCore

extension GovernanceRefusal {
    /// 429 either way: `budget_exceeded` saying whose budget and when it resets, or the key's own rate limit.
    var relayError: RelayError {
        switch self {
        case .budgetExceeded(let owner, let budget, let resetsAt):
            let whose = owner.kind == "tenant" ? "tenant's" : "API key's"
            let limit = "$" + PicoDollars.format(budget.limitPicoUSD)
            let reset = resetsAt.map { "it resets at \($0.text)T00:00:00Z" } ?? "it does not reset (a total budget)"
            return RelayError(
                status: .tooManyRequests, type: "budget_exceeded",
                message: "The \(whose) \(budget.period.rawValue) budget of \(limit) is used up; \(reset).", code: "budget_exceeded"
            )
        case .keyRateLimited(let tokens, let retryAfter):
            return RelayError(
                status: .tooManyRequests, type: "rate_limit_exceeded",
                message: tokens ? "Token-per-minute limit of this API key exceeded." : "Request-per-minute limit of this API key exceeded.",
                code: "rate_limit_exceeded", retryAfterSeconds: retryAfter
            )
        }
    }
}
