import Foundation

/// How often a spend budget starts over (DESIGN §13): UTC calendar periods, weeks from Monday; `total` never resets.
public enum BudgetPeriod: String, Sendable, CaseIterable {
    case daily
    case weekly
    case monthly
    case total

    /// The period containing an instant.
    public func window(atMicroseconds now: Int64) -> BudgetWindow {
        let today = CivilDay(microseconds: now)
        switch self {
        case .daily:
            return BudgetWindow(id: "d" + today.text, firstDay: today, resetsAt: today.adding(days: 1))
        case .weekly:
            let monday = today.adding(days: 1 - today.isoWeekday)
            return BudgetWindow(id: "w" + monday.text, firstDay: monday, resetsAt: monday.adding(days: 7))
        case .monthly:
            let (year, month, _) = today.components
            let first = CivilDay(year: year, month: month, day: 1)
            let next = month == 12 ? CivilDay(year: year + 1, month: 1, day: 1) : CivilDay(year: year, month: month + 1, day: 1)
            return BudgetWindow(id: "m" + String(first.text.prefix(7)), firstDay: first, resetsAt: next)
        case .total:
            return BudgetWindow(id: "total", firstDay: nil, resetsAt: nil)
        }
    }
}

/// One budget period: its name in Redis keys, the first day whose spend counts, and the day it resets.
public struct BudgetWindow: Sendable, Equatable {
    /// `d2026-12-01`, `w2026-11-30`, `m2026-12` or `total`.
    public var id: String
    /// Nil for `total`: every day counts.
    public var firstDay: CivilDay?
    /// Midnight UTC of this day; nil for `total`.
    public var resetsAt: CivilDay?
}

/// A spend limit in exact picodollars, with its period and optional alert threshold.
public struct Budget: Sendable, Equatable {
    public var limitPicoUSD: Int64
    public var period: BudgetPeriod
    public var softPicoUSD: Int64?

    public init(limitPicoUSD: Int64, period: BudgetPeriod, softPicoUSD: Int64? = nil) {
        self.limitPicoUSD = limitPicoUSD
        self.period = period
        self.softPicoUSD = softPicoUSD
    }

    /// The largest budget accepted: spend counters are signed 64-bit picodollars in Redis.
    public static let maximumUSD: Int64 = 9_000_000
}

/// Whose budget: a tenant's or one key's.
public enum BudgetOwner: Sendable, Hashable {
    case tenant(UUID)
    case key(UUID)

    /// `tenant` or `api_key`, as in audit rows and error messages.
    public var kind: String {
        switch self {
        case .tenant: "tenant"
        case .key: "api_key"
        }
    }

    public var id: UUID {
        switch self {
        case .tenant(let id), .key(let id): id
        }
    }

    /// The owner's hash tag (DESIGN §11): everything of one tenant or one key lives on one shard.
    var tag: String {
        switch self {
        case .tenant(let id): "fw:{ten:\(id.lowercaseText)}"
        case .key(let id): "fw:{key:\(id.lowercaseText)}"
        }
    }
}

/// Redis key names of governance state, shared by the relays (which enforce) and management (which reports).
public enum GovernanceKeys {
    /// Spend in picodollars of one owner in one period (an integer string).
    public static func spend(_ owner: BudgetOwner, window: BudgetWindow) -> String { owner.tag + ":spend:" + window.id }
    /// Set once the owner's soft budget was reported crossed in this period.
    public static func softAlert(_ owner: BudgetOwner, window: BudgetWindow) -> String { owner.tag + ":soft:" + window.id }
    /// Marks a request whose cost was charged, so a retried settlement charges nothing.
    public static func charged(_ owner: BudgetOwner, requestID: UUID) -> String { owner.tag + ":charged:" + requestID.lowercaseText }
    /// A key's own request and token buckets.
    public static func requestBucket(key: UUID) -> String { BudgetOwner.key(key).tag + ":rpm" }
    public static func tokenBucket(key: UUID) -> String { BudgetOwner.key(key).tag + ":tpm" }
}
