import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Budgets, key limits and model access as operators set them through management and clients meet them on two relays.
@Suite("Governance end to end", .serialized, .enabled(if: TestServers.enabled))
struct GovernanceEndToEndTests {
    /// Each chat answer on the mock has 8 completion tokens: at $0.001 per output token, $0.008 a request.
    static let requestCost = "0.008"
    static let requestPico: Int64 = 8_000_000_000

    static func pricedModel(_ harness: RelayHarness, _ name: String = "priced") async throws {
        try await harness.createModel(name, extra: ["input_cost_per_token": "0", "output_cost_per_token": "0.001"])
    }

    static func tenant(_ harness: RelayHarness, _ name: String, _ fields: [String: Any]) async throws -> String {
        let reply = try await harness.admin(.POST, "/v1/tenants", ["name": name].merging(fields) { $1 })
        try #require(reply.status == 201, "\(reply.body)")
        return try #require(reply.json["id"] as? String)
    }

    static func key(_ harness: RelayHarness, tenant: String, _ fields: [String: Any] = [:]) async throws -> (id: String, secret: String) {
        let reply = try await harness.admin(.POST, "/v1/tenants/\(tenant)/keys", ["name": "governed"].merging(fields) { $1 })
        try #require(reply.status == 201, "\(reply.body)")
        return (try #require(reply.json["id"] as? String), try #require(reply.json["key"] as? String))
    }

    static func chat(_ relay: ServiceBinary, _ key: String, model: String = "priced") async throws -> RelayHarness.Reply {
        try await RelayHarness.chat(relay, key: key, ["model": model, "messages": RelayHarness.messages()])
    }

    static func header(_ reply: RelayHarness.Reply, _ name: String) -> String? {
        reply.headers.first { $0.0.lowercased() == name }?.1
    }

    static func counter(_ harness: RelayHarness, _ owner: BudgetOwner, _ period: BudgetPeriod = .monthly) async throws -> String? {
        let window = period.window(atMicroseconds: UnixClock.microseconds())
        return try await harness.redisClient.send("GET", GovernanceKeys.spend(owner, window: window)).string
    }

    @Test func budgetsHoldAcrossTwoRelaysAndTheLowerOfKeyAndTenantStopsFirst() async throws {
        try await RelayHarness.with { harness in
            try await Self.pricedModel(harness)
            let capped = try await Self.tenant(harness, "capped", ["max_budget_usd": "0.02", "soft_budget_usd": 0.01])
            let key = try await Self.key(harness, tenant: capped)
            let relays = [try await harness.startRelay(), try await harness.startRelay()]
            let aggregator = try await harness.startAggregator()
            _ = aggregator

            var statuses: [Int] = []
            var remaining: [String?] = []
            for index in 0..<6 {
                let reply = try await Self.chat(relays[index % 2], key.secret)
                statuses.append(reply.status)
                if reply.status == 200 {
                    remaining.append(Self.header(reply, "x-fairway-budget-remaining"))
                } else {
                    #expect(reply.errorType == "budget_exceeded" && reply.errorCode == "budget_exceeded", "\(reply.body)")
                    let message = ((reply.json["error"] as? [String: Any])?["message"] as? String) ?? ""
                    #expect(message.contains("tenant's monthly budget of $0.02") && message.contains("resets at"), "\(message)")
                }
            }
            // 0 → 0.008 → 0.016 are under $0.02; the third request's charge takes spend to 0.024 and stops the rest.
            #expect(statuses == [200, 200, 200, 429, 429, 429])
            #expect(remaining == ["0.012", "0.004", "0"])
            let tenantID = try #require(UUID(uuidString: capped))
            #expect(try await Self.counter(harness, .tenant(tenantID)) == "24000000000")

            // What the aggregator stored: over the budget by at most one request (one was in flight at a time).
            let stored = try await RelayHardeningTests.waitUntil(.seconds(15)) {
                try await harness.scalar("SELECT count(*)::int FROM request_logs WHERE tenant_id = '\(capped)'", as: Int.self) == 6
            }
            #expect(stored != nil)
            let spent = try await harness.scalar("SELECT sum(cost_usd)::text FROM request_logs WHERE tenant_id = '\(capped)'", as: String.self)
            #expect(spent.flatMap { PicoDollars.parse($0) } == 24_000_000_000)
            let soft = try await harness.scalar(
                "SELECT count(*)::int FROM audit_log WHERE action = 'soft_budget_crossed' AND entity_id = '\(capped)'", as: Int.self
            )
            #expect(soft == 1, "the soft budget ($0.01) was crossed once, by the second request")

            let read = try await harness.admin(.GET, "/v1/tenants/\(capped)")
            #expect((read.json["spend_current_period"] as? NSNumber)?.decimalValue == Decimal(string: "0.024"), "\(read.body)")
            #expect((read.json["budget_resets_at"] as? String)?.hasPrefix(BudgetPeriod.monthly.window(atMicroseconds: UnixClock.microseconds()).resetsAt?.text ?? "-") == true)
            let budgets = try await harness.admin(.GET, "/v1/budgets")
            let row = try #require((budgets.json["data"] as? [[String: Any]])?.first { $0["id"] as? String == capped }, "\(budgets.body)")
            #expect(row["spent_source"] as? String == "redis" && row["exceeded"] as? Bool == true)
            #expect((row["spent_usd"] as? NSNumber)?.decimalValue == Decimal(string: "0.024"))
            #expect((row["remaining_usd"] as? NSNumber)?.intValue == 0)

            // A key budget lower than its tenant's stops first; the tenant's other key goes on.
            let roomy = try await Self.tenant(harness, "roomy", ["max_budget_usd": 1])
            let small = try await Self.key(harness, tenant: roomy, ["max_budget_usd": "0.01", "budget_period": "daily"])
            let other = try await Self.key(harness, tenant: roomy)
            var keyStatuses: [Int] = []
            var lastError: RelayHarness.Reply?
            for index in 0..<3 {
                let reply = try await Self.chat(relays[index % 2], small.secret)
                keyStatuses.append(reply.status)
                if reply.status != 200 { lastError = reply }
            }
            #expect(keyStatuses == [200, 200, 429])
            #expect(lastError?.body.contains("API key's daily budget of $0.01") == true, "\(lastError?.body ?? "")")
            #expect(try await Self.chat(relays[1], other.secret).status == 200)
            let roomyID = try #require(UUID(uuidString: roomy))
            #expect(try await Self.counter(harness, .tenant(roomyID)) == "24000000000")
            // A stream is charged when it ends, with the usage it reported.
            let streamed = try await RelayHarness.stream(relays[0], key: other.secret, [
                "model": "priced", "stream": true, "messages": RelayHarness.messages(),
            ])
            #expect(streamed.status == 200 && streamed.payloads.last == "[DONE]")
            let charged = try await RelayHardeningTests.waitUntil(.seconds(5)) {
                try await Self.counter(harness, .tenant(roomyID)) == "32000000000"
            }
            #expect(charged != nil)

            // A tenant budget lower than its key's stops first.
            let tight = try await Self.tenant(harness, "tight", ["max_budget_usd": "0.01", "budget_period": "weekly"])
            let generous = try await Self.key(harness, tenant: tight, ["max_budget_usd": 5])
            var tightStatuses: [Int] = []
            for index in 0..<3 { tightStatuses.append(try await Self.chat(relays[index % 2], generous.secret).status) }
            #expect(tightStatuses == [200, 200, 429])
        }
    }

    @Test func aFlushedRedisIsReseededFromPostgresOnceWhateverTheConcurrency() async throws {
        try await RelayHarness.with { harness in
            try await Self.pricedModel(harness)
            let tenant = try await Self.tenant(harness, "reseeded", ["max_budget_usd": 10])
            let key = try await Self.key(harness, tenant: tenant)
            let relays = [try await harness.startRelay(), try await harness.startRelay()]
            let aggregator = try await harness.startAggregator()
            for index in 0..<3 { #expect(try await Self.chat(relays[index % 2], key.secret).status == 200) }
            let rolledUp = try await RelayHardeningTests.waitUntil(.seconds(15)) {
                try await harness.scalar("SELECT coalesce(sum(cost_usd), 0)::text FROM daily_spend WHERE tenant_id = '\(tenant)'", as: String.self)
                    .flatMap { PicoDollars.parse($0) } == 3 * Self.requestPico
            }
            #expect(rolledUp != nil)
            await aggregator.child.stop()

            _ = try await harness.redisClient.send("FLUSHALL")
            let replies = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 { group.addTask { try await Self.chat(relays[index % 2], key.secret).status } }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(replies.allSatisfy { $0 == 200 })
            // Seeded once with the 3 stored requests, then charged 20 times: a seed counted twice would show 26.
            let tenantID = try #require(UUID(uuidString: tenant))
            #expect(try await Self.counter(harness, .tenant(tenantID)) == String(23 * Self.requestPico))
        }
    }

    @Test func allowedModelsAndKeyRatesApplyOnEveryEndpointAndAcrossRelays() async throws {
        try await RelayHarness.with { harness in
            try await Self.pricedModel(harness, "small")
            let large = try await harness.createModel("large")
            try await harness.createModel("embedder")
            try await harness.createGroup("team-group", members: [(large, 0)])
            let tenant = try await harness.createTenant("scoped")
            let scoped = try await Self.key(harness, tenant: tenant, ["allowed_models": ["small", "team-group", "embedder"]])
            let relays = [try await harness.startRelay(), try await harness.startRelay()]

            #expect(try await Self.chat(relays[0], scoped.secret, model: "small").status == 200)
            let denied = try await Self.chat(relays[1], scoped.secret, model: "large")
            #expect(denied.status == 403 && denied.errorType == "permission_denied", "\(denied.body)")
            #expect(try await Self.chat(relays[1], scoped.secret, model: "team-group").status == 200, "a group is allowed by its own name")
            let embedded = try await RelayHarness.chat(relays[0], key: scoped.secret, ["model": "embedder", "input": "hi"], path: "/v1/embeddings")
            #expect(embedded.status == 200, "\(embedded.body)")
            let embedDenied = try await RelayHarness.chat(relays[0], key: scoped.secret, ["model": "large", "input": "hi"], path: "/v1/embeddings")
            #expect(embedDenied.status == 403 && embedDenied.errorType == "permission_denied")
            let listed = try await RelayHarness.send(.GET, relays[0].baseURL + "/v1/models", body: nil, headers: [("authorization", "Bearer \(scoped.secret)")])
            let ids = Set(((listed.json["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
            #expect(ids == ["small", "team-group", "embedder"])
            let hidden = try await RelayHarness.send(.GET, relays[0].baseURL + "/v1/models/large", body: nil, headers: [("authorization", "Bearer \(scoped.secret)")])
            #expect(hidden.status == 404)

            // Clearing the list opens every model, on every relay, once the key's invalidation arrives.
            let cleared = try await harness.admin(.PATCH, "/v1/keys/\(scoped.id)", ["allowed_models": NSNull()])
            #expect(cleared.status == 200, "\(cleared.body)")
            let opened = try await RelayHardeningTests.waitUntil(.seconds(3)) {
                try await Self.chat(relays[1], scoped.secret, model: "large").status == 200
            }
            #expect(opened != nil)

            let metered = try await Self.key(harness, tenant: tenant, ["rpm_limit": 5])
            var statuses: [Int] = []
            var retryAfter: String?
            for index in 0..<8 {
                let reply = try await Self.chat(relays[index % 2], metered.secret, model: "small")
                statuses.append(reply.status)
                if reply.status == 429 {
                    #expect(reply.errorType == "rate_limit_exceeded")
                    retryAfter = Self.header(reply, "retry-after")
                }
            }
            #expect(statuses == [200, 200, 200, 200, 200, 429, 429, 429])
            #expect(retryAfter.flatMap { Int($0) }.map { $0 >= 1 && $0 <= 12 } == true)
        }
    }
}
