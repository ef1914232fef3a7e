import FairwayCore
import Foundation

/// Fair-share usage of requests served from pooled slots, added up here and written to Redis in one script call a few
/// times a second (``AdmissionScripts/settleUsage``). Usage only orders waiters under contention, and a contended
/// deployment keeps no slots, so a delay of one flush interval changes no decision that matters (docs/decisions.md).
///
/// A request admitted by Redis was charged an estimate there; when its slot is pooled the estimate comes back through
/// here as a refund, taken back exactly as the release script would (under the epoch it was charged in).
struct UsageLedger: Sendable, Equatable {
    /// One tenant's pending change: costs to add at the flush's time, and estimates to take back by the epoch (Redis's
    /// text) they were charged under.
    struct Entry: Sendable, Equatable {
        var cost: Double = 0
        var refunds: [String: Double] = [:]
    }

    private(set) var tenants: [UUID: Entry] = [:]

    var isEmpty: Bool { tenants.isEmpty }

    /// A request's real cost (tokens × admission weight).
    mutating func charge(_ tenant: UUID, cost: Double) {
        tenants[tenant, default: Entry()].cost += cost
    }

    /// Takes back the estimate `charged` (Redis's text) that the acquire script added under `epoch`.
    mutating func refund(_ tenant: UUID, charged: String, epoch: String) {
        // The tenant is active even when nothing is taken back.
        if tenants[tenant] == nil { tenants[tenant] = Entry() }
        guard let amount = Double(charged), amount != 0 else { return }
        tenants[tenant]?.refunds[epoch, default: 0] += amount
    }

    /// Everything pending, leaving the ledger empty.
    mutating func take() -> [UUID: Entry] {
        defer { tenants = [:] }
        return tenants
    }

    /// The settle script's ARGV after the half-life: `tenant, cost, refund, refund epoch` per row; a tenant with no
    /// refund gets epoch 0, and one refunded under several epochs gets a row for each.
    static func rows(_ entries: [UUID: Entry]) -> [String] {
        var rows: [String] = []
        for (tenant, entry) in entries.sorted(by: { $0.key.lowercaseText < $1.key.lowercaseText }) {
            let tenantText = tenant.lowercaseText
            var cost = entry.cost
            if entry.refunds.isEmpty {
                rows += [tenantText, cost.description, "0", "0"]
            }
            for (epoch, refund) in entry.refunds.sorted(by: { $0.key < $1.key }) {
                rows += [tenantText, cost.description, refund.description, epoch]
                cost = 0
            }
        }
        return rows
    }
}
