import FairwayCore

/// The governance fields tenants and keys share (DESIGN §13), validated the same way on both.
extension FieldRule {
    static let budgetFields: [FieldRule] = [
        FieldRule(name: "max_budget_usd", kind: .decimal(minimumExclusive: false, maximum: Budget.maximumUSD), nullable: true),
        FieldRule(name: "budget_period", kind: .enumeration(BudgetPeriod.allCases.map(\.rawValue))),
        FieldRule(name: "soft_budget_usd", kind: .decimal(minimumExclusive: false, maximum: Budget.maximumUSD), nullable: true),
    ]

    /// A key's own limits: which models it may use (null or empty = all) and its request and token rates.
    static let keyLimitFields: [FieldRule] = [
        FieldRule(name: "allowed_models", kind: .list(maxCount: 256, of: .name(maxLength: 256, extra: "._-:/@+")), nullable: true),
        .optionalLimit("rpm_limit", max: 100_000_000),
        .optionalLimit("tpm_limit", max: 1_000_000_000_000),
    ]
}

extension ResourceDefinition {
    /// Adds `spend_current_period` (rolled-up spend, exact) and `budget_resets_at` to a tenant or key with a budget.
    static func budgetRepresentation(ownerKind: String) -> String {
        """
        CASE WHEN t.max_budget_usd IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
            'spend_current_period', fairway_spend_since('\(ownerKind)', t.id, fairway_budget_first_day(t.budget_period, now())),
            'budget_resets_at', fairway_budget_resets_at(t.budget_period, now())
        ) END
        """
    }
}
