import FairwayTestSupport
import Foundation
import Hummingbird
import Testing

@testable import Management

@Suite("Spend reports")
struct SpendReportTests {
    static let now = try! Date.ISO8601FormatStyle().year().month().day().parse("2026-03-31")

    @Test func csvCellsCannotRunAsFormulas() {
        #expect(SpendRoutes.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        for formula in ["+1+2", "-2+3", "@SUM(A1)", "\tx"] {
            #expect(SpendRoutes.csvField(formula) == "'" + formula)
        }
        #expect(SpendRoutes.csvField("gpt-4o") == "gpt-4o")
        #expect(SpendRoutes.csvField("0.000123000000") == "0.000123000000")
        #expect(SpendRoutes.csvField("a,b") == "\"a,b\"")
    }

    @Test func rangesAreValidatedWithTheField() throws {
        let defaults = try SpendReportQuery(query: [:], today: Self.now)
        #expect(defaults.from == "2026-03-02" && defaults.to == "2026-03-31" && defaults.groupBy == [.day])
        let cases: [([String: String], String)] = [
            (["from": "2026-03-05", "to": "2026-03-01"], "from"),
            (["from": "2025-01-01", "to": "2026-03-01"], "to"),
            (["from": "yesterday"], "from"),
            (["to": "2026-3-1"], "to"),
            (["group_by": "day,colour"], "group_by"),
            (["tenant_id": "x"], "tenant_id"),
            (["limit": "0"], "limit"),
            (["what": "1"], "what"),
        ]
        for (query, field) in cases {
            let error = #expect(throws: APIError.self) { try SpendReportQuery(query: query, today: Self.now) }
            #expect(error?.field == field, "\(query)")
        }
        let grouped = try SpendReportQuery(query: ["group_by": "tenant,model,tenant", "from": "2025-04-01", "to": "2026-03-31"], today: Self.now)
        #expect(grouped.groupBy == [.tenant, .model])
    }
}

@Suite("Spend report API against real Postgres", .enabled(if: TestServers.enabled))
struct SpendReportAPITests {
    /// Seeds tenants, keys and `daily_spend` rows with exact decimal costs.
    static func seed(_ api: ManagementHarness) async throws -> [String] {
        _ = try await api.request(.post, "/v1/fairshare-groups", json: ["name": "research"])
        var tenants: [String] = []
        for (index, group) in ["research", nil, "research"].enumerated() {
            var body: [String: Any] = ["name": "tenant-\(index)"]
            if let group { body["group_name"] = group }
            tenants.append(try #require(try await api.request(.post, "/v1/tenants", json: body).string("id")))
        }
        try await api.database.withClient { client in
            _ = try await client.query(
                """
                INSERT INTO daily_spend (day, tenant_id, api_key_id, model_name, deployment_id, requests, succeeded, failed,
                                         cache_hits, prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms_sum)
                SELECT DATE '2026-03-01' + ((i / 3) % 3), t.id, md5(t.id::text || (i % 2)::text)::uuid, 'model-' || (i % 4),
                       CASE WHEN i % 5 = 0 THEN NULL ELSE md5((i % 4)::text)::uuid END,
                       i, i - 1, 1, i % 3, i * 100, i * 10, i, (i * 0.000000123457)::numeric(24, 12), i * 250
                FROM generate_series(1, 120) AS i
                JOIN (SELECT id, row_number() OVER (ORDER BY name) AS n FROM tenants) t ON t.n = (i % 3) + 1
                ON CONFLICT ON CONSTRAINT daily_spend_grain DO NOTHING
                """,
                logger: TestDatabase.logger
            )
        }
        return tenants
    }

    @Test func jsonAndCSVMatchTheTableForEveryGrouping() async throws {
        try await ManagementHarness.with { api in
            let tenants = try await Self.seed(api)
            let totalCost = try await api.query("SELECT sum(cost_usd)::text FROM daily_spend", as: String.self)[0]
            let totalRequests = try await api.query("SELECT sum(requests)::int8 FROM daily_spend", as: Int64.self)[0]

            for grouping in ["day", "tenant", "key", "model", "group", "day,tenant,model", "group,day"] {
                let reply = try await api.request(.get, "/v1/spend/daily?from=2026-03-01&to=2026-03-03&group_by=\(grouping)")
                #expect(reply.status == .ok, "\(reply.body)")
                let rows = reply.data
                let requests = rows.reduce(Int64(0)) { $0 + (($1["requests"] as? NSNumber)?.int64Value ?? 0) }
                let cost = rows.reduce(Decimal(0)) { $0 + (Decimal(string: $1["cost_usd"] as? String ?? "x") ?? -1_000) }
                #expect(requests == totalRequests, "\(grouping)")
                #expect(cost == Decimal(string: totalCost), "\(grouping)")
            }

            // Per day and tenant, each row equals the table's own GROUP BY.
            let expected = try await api.query(
                """
                SELECT day::text || '|' || tenant_id::text || '|' || sum(requests)::text || '|' || sum(cost_usd)::text
                FROM daily_spend GROUP BY day, tenant_id ORDER BY day, tenant_id::text
                """,
                as: String.self
            )
            let json = try await api.request(.get, "/v1/spend/daily?from=2026-03-01&to=2026-03-03&group_by=day,tenant")
            let fromJSON = json.data.map { row in
                "\(row["day"] as? String ?? "")|\(row["tenant_id"] as? String ?? "")|\(row["requests"] ?? "")|\(row["cost_usd"] as? String ?? "")"
            }
            #expect(fromJSON == expected)
            #expect(json.data.allSatisfy { ($0["tenant_name"] as? String)?.hasPrefix("tenant-") == true })

            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(ManagementHarness.token)"
            headers[.accept] = "text/csv"
            let csvResponse = try await api.client.execute(
                uri: "/v1/spend/daily?from=2026-03-01&to=2026-03-03&group_by=day,tenant", method: .get, headers: headers
            )
            #expect(csvResponse.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = String(buffer: csvResponse.body).split(separator: "\r\n").map(String.init)
            #expect(lines.first == "day,tenant_id,tenant_name,requests,succeeded,failed,cache_hits,prompt_tokens,completion_tokens,cached_tokens,cost_usd,latency_ms_sum")
            let fromCSV = lines.dropFirst().map { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                return "\(fields[0])|\(fields[1])|\(fields[3])|\(fields[10])"
            }
            #expect(fromCSV == expected)

            // Paging through the finest grouping visits every row once.
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let reply = try await api.request(
                    .get, "/v1/spend/daily?from=2026-03-01&to=2026-03-03&group_by=day,key,model&limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
                )
                seen += reply.data.map { "\($0["day"] ?? "")\($0["api_key_id"] ?? "")\($0["model_name"] ?? "")" }
                cursor = reply.nextCursor
                pages += 1
            } while cursor != nil && pages < 100
            let distinct = try await api.query(
                "SELECT count(*)::int FROM (SELECT DISTINCT day, api_key_id, model_name FROM daily_spend) d", as: Int.self
            )[0]
            #expect(seen.count == distinct && Set(seen).count == distinct)

            // A tenant's own report.
            let tenantReport = try await api.request(.get, "/v1/tenants/\(tenants[0])/spend?from=2026-03-01&to=2026-03-03")
            #expect(tenantReport.status == .ok)
            let tenantCost = try await api.query(
                "SELECT sum(cost_usd)::text FROM daily_spend WHERE tenant_id = '\(tenants[0])'", as: String.self
            )[0]
            let totals = tenantReport.json["totals"] as? [String: Any]
            #expect(Decimal(string: totals?["cost_usd"] as? String ?? "") == Decimal(string: tenantCost))
            #expect((tenantReport.json["days"] as? [Any])?.count == 3)
            #expect(try await api.request(.get, "/v1/tenants/\(UUID())/spend").status == .notFound)

            let bad = try await api.request(.get, "/v1/spend/daily?from=2026-03-05&to=2026-03-01")
            #expect(bad.status == .badRequest && bad.errorField == "from")
            #expect(try await api.request(.get, "/v1/tenants/\(tenants[0])/spend?group_by=day").errorField == "group_by")
        }
    }
}
