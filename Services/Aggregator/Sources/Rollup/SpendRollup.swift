import FairwayCore
import Foundation

/// Sums request-log events into rows of the `daily_spend` grain (day, tenant, key, model, deployment).
///
/// Pure, so the arithmetic is tested without a database, and so one batch's upsert names each grain row once
/// (Postgres refuses an `ON CONFLICT DO UPDATE` that touches the same row twice in one statement).
public struct SpendRollup: Sendable, Equatable {
    public struct Grain: Hashable, Sendable, Comparable {
        public var day: String
        public var tenantID: UUID
        public var apiKeyID: UUID
        public var modelName: String
        public var deploymentID: UUID?

        public static func < (lhs: Grain, rhs: Grain) -> Bool {
            if lhs.day != rhs.day { return lhs.day < rhs.day }
            if lhs.tenantID != rhs.tenantID { return UUID.byteOrder(lhs.tenantID, rhs.tenantID) }
            if lhs.apiKeyID != rhs.apiKeyID { return UUID.byteOrder(lhs.apiKeyID, rhs.apiKeyID) }
            if lhs.modelName != rhs.modelName { return lhs.modelName < rhs.modelName }
            switch (lhs.deploymentID, rhs.deploymentID) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let left?, let right?): return UUID.byteOrder(left, right)
            }
        }
    }

    public struct Measures: Equatable, Sendable {
        public var requests: Int64 = 0
        public var succeeded: Int64 = 0
        public var failed: Int64 = 0
        public var cacheHits: Int64 = 0
        public var promptTokens: Int64 = 0
        public var completionTokens: Int64 = 0
        public var cachedTokens: Int64 = 0
        /// Exact, in 10⁻¹² USD.
        public var costPicoUSD: Int64 = 0
        public var latencyMSSum: Int64 = 0

        public init() {}

        public var costUSD: Decimal { PicoDollars.decimal(costPicoUSD) }

        /// Saturating: a batch of extreme (but decodable) events cannot trap the aggregator.
        mutating func add(_ event: RequestLogEvent) {
            requests.saturatingAdd(1)
            if event.succeeded { succeeded.saturatingAdd(1) } else { failed.saturatingAdd(1) }
            if event.cacheHit { cacheHits.saturatingAdd(1) }
            promptTokens.saturatingAdd(event.promptTokens)
            completionTokens.saturatingAdd(event.completionTokens)
            cachedTokens.saturatingAdd(event.cachedTokens)
            costPicoUSD.saturatingAdd(event.costPicoUSD)
            latencyMSSum.saturatingAdd(Int64(event.latencyMS))
        }
    }

    public private(set) var rows: [Grain: Measures] = [:]

    public init() {}

    public init(_ events: some Sequence<RequestLogEvent>) {
        for event in events { add(event) }
    }

    public mutating func add(_ event: RequestLogEvent) {
        let grain = Grain(
            day: event.day, tenantID: event.tenantID, apiKeyID: event.apiKeyID,
            modelName: event.modelName, deploymentID: event.deploymentID
        )
        rows[grain, default: Measures()].add(event)
    }

    /// Rows in a stable order, so concurrent writers lock grain rows in the same order and cannot deadlock.
    public var sortedRows: [(grain: Grain, measures: Measures)] {
        rows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
