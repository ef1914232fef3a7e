import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO

/// Spend reports from the `daily_spend` rollup (DESIGN §6): `GET /v1/spend/daily` (JSON, or CSV with
/// `Accept: text/csv`) and `GET /v1/tenants/{id}/spend`. Money leaves Postgres as `numeric` text, never a float.
struct SpendRoutes: Sendable {
    let store: ConfigStore

    static let measures = [
        "requests", "succeeded", "failed", "cache_hits", "prompt_tokens", "completion_tokens", "cached_tokens",
        "cost_usd", "latency_ms_sum",
    ]

    func register(on group: RouterGroup<BasicRequestContext>) {
        group.get("spend/daily") { request, _ in try await daily(request) }
        group.get("tenants/:id/spend") { request, context in try await tenant(request, idText: try context.parameters.require("id")) }
    }

    /// Columns a dimension contributes: (output name, SQL expression, part of the sort key).
    static func columns(_ dimension: SpendReportQuery.Dimension) -> [(name: String, sql: String, key: Bool)] {
        switch dimension {
        case .day: [("day", "d.day::text", true)]
        case .tenant: [("tenant_id", "d.tenant_id::text", true), ("tenant_name", "max(t.name)", false)]
        case .key: [("api_key_id", "d.api_key_id::text", true), ("key_name", "max(k.name)", false)]
        case .model: [("model_name", "d.model_name", true)]
        case .group: [("group", "coalesce(t.group_name, '')", true)]
        }
    }

    static func measureSQL(_ name: String) -> String {
        name == "cost_usd" ? "sum(d.cost_usd)::text" : "sum(d.\(name))::text"
    }

    func daily(_ request: Request) async throws -> Response {
        let report = try SpendReportQuery(query: request.queryParameters)
        var parameters = SQLParameters()
        var conditions = [
            "d.day >= \(parameters.placeholder(for: .text(report.from)))::date",
            "d.day <= \(parameters.placeholder(for: .text(report.to)))::date",
        ]
        if let id = report.tenantID { conditions.append("d.tenant_id = \(parameters.placeholder(for: .uuid(id)))") }
        if let id = report.apiKeyID { conditions.append("d.api_key_id = \(parameters.placeholder(for: .uuid(id)))") }
        if let model = report.model { conditions.append("d.model_name = \(parameters.placeholder(for: .text(model)))") }
        let dimensionColumns = report.groupBy.flatMap(Self.columns)
        let keys = dimensionColumns.filter(\.key)
        var having = ""
        if let after = report.after {
            let placeholders = after.map { parameters.placeholder(for: .text($0)) }
            having = "HAVING (\(keys.map(\.sql).joined(separator: ", "))) > (\(placeholders.joined(separator: ", ")))"
        }
        let selected = dimensionColumns.map { "coalesce(\($0.sql), '')" } + Self.measures.map(Self.measureSQL)
        let sql = """
            SELECT ARRAY[\(selected.joined(separator: ", "))]
            FROM daily_spend d
            LEFT JOIN tenants t ON t.id = d.tenant_id
            LEFT JOIN api_keys k ON k.id = d.api_key_id
            WHERE \(conditions.joined(separator: " AND "))
            GROUP BY \(keys.map(\.sql).joined(separator: ", "))
            \(having)
            ORDER BY \(keys.map(\.sql).joined(separator: ", "))
            LIMIT \(report.limit + 1)
            """
        let rows = try await store.read { connection in
            var rows: [[String]] = []
            for try await row in try await connection.query(parameters.query(sql), logger: store.logger).decode([String].self) {
                rows.append(row)
            }
            return rows
        }
        let page = Array(rows.prefix(report.limit))
        let keyIndexes = dimensionColumns.enumerated().filter(\.element.key).map(\.offset)
        let nextCursor = rows.count > report.limit ? page.last.map { row in PageRequest.encode(keyIndexes.map { row[$0] }) } : nil
        let names = dimensionColumns.map(\.name) + Self.measures

        if request.headers[.accept]?.lowercased().contains("text/csv") == true {
            var csv = names.joined(separator: ",") + "\r\n"
            for row in page {
                csv += row.map(Self.csvField).joined(separator: ",") + "\r\n"
            }
            var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
            headers[.contentDisposition] = "attachment; filename=\"spend-\(report.from)-\(report.to).csv\""
            if let nextCursor { headers[HTTPField.Name("X-Next-Cursor")!] = nextCursor }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        let data = page.map { row in Self.object(names: names, values: row) }
        let body: [String: Any] = [
            "from": report.from, "to": report.to, "group_by": report.groupBy.map(\.rawValue),
            "data": data, "next_cursor": nextCursor ?? NSNull(),
        ]
        return Response.json(String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self))
    }

    func tenant(_ request: Request, idText: String) async throws -> Response {
        guard let tenantID = UUID(uuidString: idText) else { throw APIError.notFound("tenant") }
        let report = try SpendReportQuery(query: request.queryParameters, allowGroupBy: false)
        let measureList = Self.measures.map(Self.measureSQL).joined(separator: ", ")
        let (exists, days) = try await store.read { connection in
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM tenants WHERE id = \(tenantID)", logger: store.logger) {
                exists = true
            }
            var days: [[String]] = []
            let sql = """
                SELECT ARRAY[d.day::text, \(measureList)]
                FROM daily_spend d
                WHERE d.tenant_id = $1 AND d.day >= $2::date AND d.day <= $3::date
                GROUP BY d.day ORDER BY d.day
                """
            var bindings = PostgresBindings()
            bindings.append(tenantID)
            bindings.append(report.from)
            bindings.append(report.to)
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: store.logger).decode([String].self) {
                days.append(row)
            }
            return (exists, days)
        }
        guard exists else { throw APIError.notFound("tenant") }
        var totals: [String: Any] = [:]
        for (index, name) in Self.measures.enumerated() {
            if name == "cost_usd" {
                let sum = days.reduce(Decimal(0)) { $0 + (Decimal(string: $1[index + 1], locale: Locale(identifier: "en_US_POSIX")) ?? 0) }
                totals[name] = "\(sum)"
            } else {
                totals[name] = days.reduce(Int64(0)) { $0 + (Int64($1[index + 1]) ?? 0) }
            }
        }
        let body: [String: Any] = [
            "tenant_id": tenantID.uuidString.lowercased(), "from": report.from, "to": report.to, "totals": totals,
            "days": days.map { Self.object(names: ["day"] + Self.measures, values: $0) },
        ]
        return Response.json(String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self))
    }

    /// A JSON object of one row: counts as numbers, cost as an exact decimal string, empty dimensions as null.
    static func object(names: [String], values: [String]) -> [String: Any] {
        var object: [String: Any] = [:]
        for (name, value) in zip(names, values) {
            if measures.contains(name) && name != "cost_usd" {
                object[name] = Int64(value) ?? 0
            } else if value.isEmpty {
                object[name] = NSNull()
            } else {
                object[name] = value
            }
        }
        return object
    }

    /// A CSV cell. One starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so a
    /// spreadsheet shows it instead of running it as a formula (model and key names are client-chosen text; the
    /// report's own numbers are never negative, so none is touched).
    static func csvField(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
