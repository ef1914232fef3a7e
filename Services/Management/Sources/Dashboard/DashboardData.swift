import FairwayCore
import Foundation
import PostgresNIO

/// What the dashboard's pages show, read from the same rollup and tables as the API.
struct DashboardData: Sendable {
    let store: ConfigStore

    struct Totals: Sendable {
        var requests: Int64 = 0
        var failed: Int64 = 0
        var tokens: Int64 = 0
        var costPicoUSD: Int64 = 0
    }

    /// Totals from `firstDay` to today (UTC).
    func totals(since firstDay: CivilDay) async throws -> Totals {
        let day = firstDay.text
        let logger = store.logger
        return try await store.read { connection in
            let rows = try await connection.query(
                """
                SELECT coalesce(sum(requests), 0)::int8, coalesce(sum(failed), 0)::int8,
                       coalesce(sum(prompt_tokens + completion_tokens), 0)::int8, coalesce(sum(cost_usd), 0)::text
                FROM daily_spend WHERE day >= \(day)::date
                """,
                logger: logger
            )
            for try await (requests, failed, tokens, cost) in rows.decode((Int64, Int64, Int64, String).self) {
                return Totals(requests: requests, failed: failed, tokens: tokens, costPicoUSD: PicoDollars.parse(cost) ?? 0)
            }
            return Totals()
        }
    }

    struct SpendRow: Sendable {
        var day: String
        var label: String
        var requests: Int64
        var costPicoUSD: Int64
    }

    /// Spend per day and tenant (or model) in a range of days.
    func spend(from: CivilDay, to: CivilDay, byModel: Bool) async throws -> [SpendRow] {
        let (first, last) = (from.text, to.text)
        let logger = store.logger
        let label = byModel ? "d.model_name" : "coalesce(t.name, d.tenant_id::text)"
        return try await store.read { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    SELECT d.day::text, \(label), sum(d.requests)::int8, sum(d.cost_usd)::text
                    FROM daily_spend d LEFT JOIN tenants t ON t.id = d.tenant_id
                    WHERE d.day BETWEEN $1::date AND $2::date
                    GROUP BY 1, 2 ORDER BY 1, 2
                    """, binds: {
                        var binds = PostgresBindings()
                        binds.append(first)
                        binds.append(last)
                        return binds
                    }()),
                logger: logger
            )
            var result: [SpendRow] = []
            for try await (day, name, requests, cost) in rows.decode((String, String, Int64, String).self) {
                result.append(SpendRow(day: day, label: name, requests: requests, costPicoUSD: PicoDollars.parse(cost) ?? 0))
            }
            return result
        }
    }

    struct KeyRow: Sendable {
        var tenant: String
        var id: String
        var name: String
        var prefix: String
        var disabled: Bool
        var expired: Bool
        var created: String
    }

    /// Every key with its tenant, by tenant name (at most 2,000: the page is for people).
    func keys() async throws -> [KeyRow] {
        let logger = store.logger
        return try await store.read { connection in
            let rows = try await connection.query(
                """
                SELECT t.name, k.id::text, k.name, k.key_prefix, k.disabled, coalesce(k.expires_at < now(), false),
                       to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
                FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
                ORDER BY t.name, k.created_at, k.id LIMIT 2000
                """,
                logger: logger
            )
            var result: [KeyRow] = []
            for try await (tenant, id, name, prefix, disabled, expired, created) in rows.decode((String, String, String, String, Bool, Bool, String).self) {
                result.append(KeyRow(tenant: tenant, id: id, name: name, prefix: prefix, disabled: disabled, expired: expired, created: created))
            }
            return result
        }
    }
}
