import FairwayCore
import FairwayJSON
import FairwayRedis
import Foundation
import Hummingbird
import PostgresNIO

/// `GET /v1/budgets` (DESIGN §13): every tenant and key with a budget — limit, period, spent, remaining, reset time —
/// for dashboards. `spent_usd` is the counter the relays enforce (Redis) when one exists, else the rolled-up spend from
/// Postgres; `spent_source` says which. Paginated like every list (keyset on owner type and id).
struct BudgetReport: Sendable {
    let store: ConfigStore
    let redis: RedisClient

    struct Row: Sendable {
        var ownerType: String
        var id: UUID
        var name: String
        var tenantID: String
        var limit: String
        var period: BudgetPeriod
        var soft: String?
        var rolledUp: String
        var resetsAt: String?
    }

    func register(on group: RouterGroup<BasicRequestContext>) {
        group.get("budgets") { request, _ in try await list(request) }
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.queryParameters
        let allowed: Set<String> = ["limit", "cursor", "tenant_id"]
        for name in query.keys.sorted() where !allowed.contains(name) {
            throw APIError.validation(name, "unknown query parameter '\(name)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        let page = try PageRequest(query: query)
        let rows = try await read(page: page, tenant: try query["tenant_id"].map(Self.tenantFilter))
        let shown = Array(rows.prefix(page.limit))
        let live = await liveSpend(shown)
        var data: [JSON] = []
        for (row, counter) in zip(shown, live) { data.append(Self.json(row, live: counter)) }
        var body: JSONObject = ["object": "list", "data": .array(data)]
        if rows.count > page.limit, let last = shown.last {
            body["next_cursor"] = .string(PageRequest.encode([last.ownerType, last.id.lowercaseText]))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: JSON.object(body).bytes)))
    }

    static func tenantFilter(_ text: String) throws(APIError) -> UUID {
        guard let id = UUID(uuidString: text) else { throw .validation("tenant_id", "tenant_id must be a UUID") }
        return id
    }

    private func read(page: PageRequest, tenant: UUID?) async throws -> [Row] {
        var parameters = SQLParameters()
        var conditions: [String] = []
        if let tenant { conditions.append("b.tenant_id = \(parameters.placeholder(for: .uuid(tenant)))") }
        if let after = page.after {
            guard after.count == 2, let id = UUID(uuidString: after[1]) else {
                throw APIError.validation("cursor", "cursor is not one this API issued")
            }
            conditions.append("(b.kind, b.id) > (\(parameters.placeholder(for: .text(after[0]))), \(parameters.placeholder(for: .uuid(id))))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT b.kind, b.id, b.name, b.tenant_id::text, b.max_budget_usd::text, b.budget_period, b.soft_budget_usd::text,
                   fairway_spend_since(b.kind, b.id, fairway_budget_first_day(b.budget_period, now()))::text,
                   to_char(fairway_budget_resets_at(b.budget_period, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM (
                SELECT 'tenant' AS kind, id, name, id AS tenant_id, max_budget_usd, budget_period, soft_budget_usd
                FROM tenants WHERE max_budget_usd IS NOT NULL
                UNION ALL
                SELECT 'api_key', id, name, tenant_id, max_budget_usd, budget_period, soft_budget_usd
                FROM api_keys WHERE max_budget_usd IS NOT NULL
            ) b
            \(whereClause)
            ORDER BY b.kind, b.id
            LIMIT \(page.limit + 1)
            """
        let logger = store.logger
        return try await store.read { connection in
            var rows: [Row] = []
            let result = try await connection.query(parameters.query(sql), logger: logger)
            for try await (kind, id, name, tenantID, limit, period, soft, spent, resets) in result.decode(
                (String, UUID, String, String, String, String, String?, String, String?).self
            ) {
                rows.append(Row(
                    ownerType: kind, id: id, name: name, tenantID: tenantID, limit: limit,
                    period: BudgetPeriod(rawValue: period) ?? .monthly, soft: soft, rolledUp: spent, resetsAt: resets
                ))
            }
            return rows
        }
    }

    /// The relays' counters for these rows' current periods (nil where none exists or Redis cannot answer).
    private func liveSpend(_ rows: [Row]) async -> [Int64?] {
        guard !rows.isEmpty else { return [] }
        let now = UnixClock.microseconds()
        let keys = rows.map { row in
            GovernanceKeys.spend(row.ownerType == "tenant" ? .tenant(row.id) : .key(row.id), window: row.period.window(atMicroseconds: now))
        }
        guard let reply = try? await redis.send(RedisCommand("MGET", keys), timeout: .seconds(2)), let values = reply.array else {
            return rows.map { _ in nil }
        }
        return rows.indices.map { index in index < values.count ? values[index].string.flatMap { Int64($0) } : nil }
    }

    static func json(_ row: Row, live: Int64?) -> JSON {
        let limit = PicoDollars.parse(row.limit) ?? 0
        let spent = live ?? PicoDollars.parse(row.rolledUp) ?? 0
        var object: JSONObject = [
            "owner_type": .string(row.ownerType), "id": .string(row.id.lowercaseText), "name": .string(row.name),
            "tenant_id": .string(row.tenantID), "max_budget_usd": .number(PicoDollars.format(limit)),
            "budget_period": .string(row.period.rawValue), "spent_usd": .number(PicoDollars.format(spent)),
            "spent_source": .string(live == nil ? "postgres" : "redis"),
            "remaining_usd": .number(PicoDollars.format(max(0, limit - spent))),
            "resets_at": row.resetsAt.map(JSON.string) ?? .null,
            "soft_budget_usd": row.soft.flatMap { PicoDollars.parse($0) }.map { .number(PicoDollars.format($0)) } ?? .null,
        ]
        object["exceeded"] = .bool(spent >= limit)
        return .object(object)
    }
}
