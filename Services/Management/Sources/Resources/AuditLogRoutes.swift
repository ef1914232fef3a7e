import Foundation
import Hummingbird
import PostgresNIO

/// `GET /v1/audit-log`: newest first, filtered by entity, action, actor and time range, keyset-paginated.
struct AuditLogRoutes: Sendable {
    let store: ConfigStore

    static let filters: [FieldRule] = [
        FieldRule(name: "entity_type", kind: .name(maxLength: 64, extra: "_")),
        FieldRule(name: "entity_id", kind: .text(maxLength: 256)),
        FieldRule(name: "action", kind: .name(maxLength: 64, extra: "_")),
        FieldRule(name: "actor", kind: .text(maxLength: 256)),
    ]

    func register(on group: RouterGroup<BasicRequestContext>) {
        group.get("audit-log") { request, _ in try await list(request) }
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.queryParameters
        let page = try PageRequest(query: query)
        let allowed = Set(Self.filters.map(\.name) + ["from", "to", "limit", "cursor"])
        for name in query.keys.sorted() where !allowed.contains(name) {
            throw APIError.validation(name, "unknown query parameter '\(name)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        var parameters = SQLParameters()
        var conditions: [String] = []
        for filter in Self.filters {
            guard let text = query[filter.name] else { continue }
            conditions.append("a.\(filter.name) = \(parameters.placeholder(for: try filter.validate(.string(text))))")
        }
        let timeRule = FieldRule(name: "from", kind: .timestamp)
        var from: Date?
        if let text = query["from"] {
            guard case .timestamp(let date) = try timeRule.validate(.string(text)) else { throw APIError.validation("from", "invalid") }
            from = date
            conditions.append("a.created_at >= \(parameters.placeholder(for: .timestamp(date)))")
        }
        if let text = query["to"] {
            guard case .timestamp(let date) = try FieldRule(name: "to", kind: .timestamp).validate(.string(text)) else {
                throw APIError.validation("to", "invalid")
            }
            if let from, date < from { throw APIError.validation("to", "to must not be before from") }
            conditions.append("a.created_at < \(parameters.placeholder(for: .timestamp(date)))")
        }
        if let after = page.after {
            guard after.count == 2 else { throw APIError.validation("cursor", "cursor is not one this API issued") }
            conditions.append(
                "(a.created_at, a.id) < (\(parameters.placeholder(for: .text(after[0])))::timestamptz, \(parameters.placeholder(for: .text(after[1])))::uuid)"
            )
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT to_jsonb(a)::text, a.created_at::text || chr(31) || a.id::text
            FROM audit_log a \(whereClause)
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT \(page.limit + 1)
            """
        let rows = try await store.readPage(parameters.query(sql))
        return .page(rows: rows, limit: page.limit)
    }
}
