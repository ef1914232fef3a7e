/// A tenant's fair-share inputs.
public struct ShareInput: Sendable, Equatable {
    public var tenant: String
    public var weight: Double
    /// The fair-share group; nil puts the tenant in the default group.
    public var group: String?

    public init(tenant: String, weight: Double, group: String? = nil) {
        self.tenant = tenant
        self.weight = weight
        self.group = group
    }
}

/// Shares of scarce capacity (DESIGN §5.1), over the tenants active right now only: idle tenants neither hold nor
/// dilute a share.
///
/// - flat: `w_t / Σ w` over active tenants.
/// - hierarchical: `(W_g / Σ W active groups) · (w_t / Σ w active tenants in g)`; ungrouped tenants form a default
///   group of weight 100. With no groups at all it equals flat.
public struct FairShareCalculator: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case flat
        case hierarchical
    }

    public static let defaultGroup = ""
    public static let defaultGroupWeight: Double = 100

    public var mode: Mode
    public var groupWeights: [String: Double]

    public init(mode: Mode = .hierarchical, groupWeights: [String: Double] = [:]) {
        self.mode = mode
        self.groupWeights = groupWeights
    }

    /// Shares of `active` tenants; they sum to 1 (empty input gives an empty result).
    public func shares(_ active: [ShareInput]) -> [String: Double] {
        let tenants = active.filter { $0.weight > 0 }
        guard !tenants.isEmpty else { return [:] }
        switch mode {
        case .flat:
            let total = tenants.reduce(0) { $0 + $1.weight }
            return Dictionary(tenants.map { ($0.tenant, $0.weight / total) }, uniquingKeysWith: { first, _ in first })
        case .hierarchical:
            let byGroup = Dictionary(grouping: tenants) { $0.group ?? Self.defaultGroup }
            let groupWeight = { (group: String) -> Double in
                group == Self.defaultGroup ? Self.defaultGroupWeight : (groupWeights[group] ?? Self.defaultGroupWeight)
            }
            let totalGroups = byGroup.keys.reduce(0) { $0 + groupWeight($1) }
            var shares: [String: Double] = [:]
            for (group, members) in byGroup {
                let inGroup = members.reduce(0) { $0 + $1.weight }
                for member in members {
                    shares[member.tenant] = (groupWeight(group) / totalGroups) * (member.weight / inGroup)
                }
            }
            return shares
        }
    }

    /// Waiting order: decayed usage over share, lower first. A tenant without a share (not active yet) ranks first.
    public static func priority(usage: Double, share: Double?) -> Double {
        guard let share, share > 0 else { return 0 }
        return usage / share
    }
}
