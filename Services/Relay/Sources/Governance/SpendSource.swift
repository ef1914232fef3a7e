import FairwayCore
import Foundation
import Logging
import PostgresNIO

/// Where a missing spend counter is seeded from: the spend stored so far in a period (DESIGN §13).
public protocol SpendSource: Sendable {
    /// Picodollars `owner` spent from `firstDay` on (every day when nil).
    func spend(of owner: BudgetOwner, since firstDay: CivilDay?) async throws -> Int64
}

/// `daily_spend` through `fairway_spend_since`: the aggregator writes request logs and their rollup in one
/// transaction, so the rollup is every stored request's cost.
public struct PostgresSpendSource: SpendSource {
    public let client: PostgresClient
    public let logger: Logger
    public let timeout: Duration

    public init(client: PostgresClient, logger: Logger, timeout: Duration = .seconds(3)) {
        self.client = client
        self.logger = logger
        self.timeout = timeout
    }

    public func spend(of owner: BudgetOwner, since firstDay: CivilDay?) async throws -> Int64 {
        let (client, logger) = (self.client, self.logger)
        let kind = owner.kind
        let id = owner.id
        let day = firstDay?.text
        return try await withDeadline(timeout) {
            let rows = try await client.query("SELECT fairway_spend_since(\(kind), \(id), \(day)::date)::text", logger: logger)
            for try await text in rows.decode(String.self) {
                return PicoDollars.parse(text) ?? Budget.maximumUSD * PicoDollars.perDollar
            }
            return 0
        }
    }
}
