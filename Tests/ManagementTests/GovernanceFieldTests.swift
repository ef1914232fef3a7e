import FairwayCore
import FairwayTestSupport
import Foundation
import Hummingbird
import Testing

@testable import Management

@Suite("Governance fields and budgets", .enabled(if: TestServers.enabled))
struct GovernanceFieldTests {
    @Test func everyNewFieldIsValidatedAndNamedInTheError() async throws {
        try await ManagementHarness.with { api in
            let refusals: [([String: Any], String)] = [
                (["max_budget_usd": -1], "max_budget_usd"),
                (["max_budget_usd": "ten"], "max_budget_usd"),
                (["max_budget_usd": "0.0000000000001"], "max_budget_usd"),
                (["max_budget_usd": 9_000_001], "max_budget_usd"),
                (["budget_period": "yearly"], "budget_period"),
                (["budget_period": NSNull()], "budget_period"),
                (["soft_budget_usd": "-0.5"], "soft_budget_usd"),
            ]
            for (fields, field) in refusals {
                let reply = try await api.request(.post, "/v1/tenants", json: ["name": "t-\(UUID().uuidString.prefix(6))"].merging(fields) { $1 })
                #expect(reply.status == .badRequest && reply.errorField == field, "\(fields): \(reply.body)")
            }
            let tenant = try #require(try await api.request(.post, "/v1/tenants", json: ["name": "acme"]).string("id"))
            let keyRefusals: [([String: Any], String)] = [
                (["allowed_models": [""]], "allowed_models"),
                (["allowed_models": "gpt-4o"], "allowed_models"),
                (["allowed_models": ["ok", 7]], "allowed_models"),
                (["allowed_models": Array(repeating: "m", count: 257)], "allowed_models"),
                (["rpm_limit": 0], "rpm_limit"),
                (["tpm_limit": -5], "tpm_limit"),
                (["rpm_limit": 1.5], "rpm_limit"),
                (["budget_period": "hourly"], "budget_period"),
            ]
            for (fields, field) in keyRefusals {
                let reply = try await api.request(.post, "/v1/tenants/\(tenant)/keys", json: ["name": "k"].merging(fields) { $1 })
                #expect(reply.status == .badRequest && reply.errorField == field, "\(fields): \(reply.body)")
            }
            #expect(try await api.query("SELECT count(*)::int FROM api_keys", as: Int.self) == [0])
        }
    }

    @Test func budgetsAreStoredExactlyAuditedAndReportedWithTheirPeriod() async throws {
        try await ManagementHarness.with { api in
            let created = try await api.request(.post, "/v1/tenants", json: [
                "name": "acme", "max_budget_usd": "500.123456789012", "budget_period": "weekly", "soft_budget_usd": 400,
            ])
            #expect(created.status == .created, "\(created.body)")
            let tenant = try #require(created.string("id"))
            #expect(try await api.query("SELECT max_budget_usd::text FROM tenants", as: String.self) == ["500.123456789012"])
            #expect((created.json["spend_current_period"] as? NSNumber)?.intValue == 0)
            let week = BudgetPeriod.weekly.window(atMicroseconds: UnixClock.microseconds())
            #expect((created.json["budget_resets_at"] as? String)?.hasPrefix(week.resetsAt?.text ?? "-") == true, "\(created.body)")

            let key = try await api.request(.post, "/v1/tenants/\(tenant)/keys", json: [
                "name": "ci", "allowed_models": ["gpt-4o", "team-group", "gpt-4o"], "rpm_limit": 60, "tpm_limit": 100_000,
                "max_budget_usd": 5, "budget_period": "total",
            ])
            #expect(key.status == .created, "\(key.body)")
            #expect(key.json["allowed_models"] as? [String] == ["gpt-4o", "team-group"])
            #expect(key.json["budget_resets_at"] is NSNull, "a total budget never resets: \(key.body)")
            let keyID = try #require(key.string("id"))
            let unbudgeted = try await api.request(.post, "/v1/tenants/\(tenant)/keys", json: ["name": "plain"])
            #expect(unbudgeted.json["spend_current_period"] == nil && unbudgeted.json["budget_period"] as? String == "monthly")

            let patched = try await api.request(.patch, "/v1/keys/\(keyID)", json: ["allowed_models": [], "rpm_limit": NSNull()])
            #expect(patched.status == .ok && patched.json["allowed_models"] as? [String] == [] && patched.json["rpm_limit"] is NSNull)

            let audited = try await api.query(
                "SELECT (payload->'after'->>'max_budget_usd') FROM audit_log WHERE action = 'create_tenant'", as: String.self
            )
            #expect(audited == ["500.123456789012"])
            let keyAudit = try await api.query(
                "SELECT (payload->'before'->>'rpm_limit') || '>' || coalesce(payload->'after'->>'rpm_limit', 'null') FROM audit_log WHERE action = 'update_key'",
                as: String.self
            )
            #expect(keyAudit == ["60>null"])

            // Rolled-up spend from the current period counts; an older day does not.
            let today = CivilDay(microseconds: UnixClock.microseconds())
            for (day, cost) in [(today.text, "1.25"), (today.adding(days: -40).text, "99")] {
                try await api.database.withClient { client in
                    _ = try await client.query(
                        """
                        INSERT INTO daily_spend (day, tenant_id, api_key_id, model_name, requests, cost_usd)
                        VALUES (\(day)::date, \(UUID(uuidString: tenant) ?? UUID()), \(UUID(uuidString: keyID) ?? UUID()), 'gpt-4o', 1, \(cost)::numeric)
                        """,
                        logger: TestDatabase.logger
                    )
                }
            }
            let read = try await api.request(.get, "/v1/tenants/\(tenant)")
            #expect((read.json["spend_current_period"] as? NSNumber)?.decimalValue == Decimal(string: "1.25"), "\(read.body)")

            let first = try await api.request(.get, "/v1/budgets?limit=1")
            #expect(first.status == .ok && first.data.count == 1, "\(first.body)")
            let cursor = try #require(first.nextCursor)
            let second = try await api.request(.get, "/v1/budgets?limit=1&cursor=\(cursor)")
            #expect(second.data.count == 1 && second.nextCursor == nil)
            let rows = first.data + second.data
            let keyRow = try #require(rows.first { $0["owner_type"] as? String == "api_key" })
            #expect((keyRow["spent_usd"] as? NSNumber)?.decimalValue == Decimal(string: "100.25"), "a total budget counts every day")
            #expect(keyRow["spent_source"] as? String == "postgres")
            #expect((keyRow["remaining_usd"] as? NSNumber)?.intValue == 0 && keyRow["exceeded"] as? Bool == true)
            // Exact to the picodollar in the JSON text (a float would not keep 15 significant digits).
            #expect((first.body + second.body).contains("\"remaining_usd\":498.873456789012,"))
            #expect(try await api.request(.get, "/v1/budgets?tenant=x").errorField == "tenant")
            #expect(try await api.request(.get, "/v1/budgets?tenant_id=nope").errorField == "tenant_id")
        }
    }
}
