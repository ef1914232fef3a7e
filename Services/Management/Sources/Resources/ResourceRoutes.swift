import FairwayCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

/// The five routes of a configuration resource — create, list, get, patch, delete — driven by its definition.
struct ResourceRoutes: Sendable {
    let definition: ResourceDefinition
    let store: ConfigStore

    func register(on group: RouterGroup<BasicRequestContext>) {
        let path = RouterPath(stringLiteral: definition.path)
        let parameter = definition.keyColumn
        let item = RouterPath(stringLiteral: "\(definition.path)/:\(parameter)")
        if definition.allowsCreate {
            group.post(path) { request, context in try await create(request, context: context) }
        }
        group.get(path) { request, _ in try await list(request) }
        group.get(item) { request, context in try await get(try context.parameters.require(parameter)) }
        group.patch(item) { request, context in try await update(request, context: context, key: try context.parameters.require(parameter)) }
        group.delete(item) { request, context in try await delete(request, key: try context.parameters.require(parameter)) }
    }

    func create(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await JSONRequestBody.read(request, context: context)
        let columns = try definition.fields.validate(body, isCreate: true)
        let definition = self.definition
        let json = try await store.change(actor: request.actor, table: definition.table) { connection, record in
            var parameters = SQLParameters()
            let placeholders = columns.map { parameters.placeholder(for: $0.value) }
            let sql = """
                INSERT INTO \(definition.table) AS t (\(columns.map(\.column).joined(separator: ", ")))
                VALUES (\(placeholders.joined(separator: ", ")))
                RETURNING \(definition.keyColumn)::text, \(definition.representation)
                """
            let (key, json) = try await Self.singleRow(connection.query(parameters.query(sql), logger: store.logger))
            record.audit("create_\(definition.noun)", entity: definition.entity, id: key, before: nil, after: json)
            record.invalidate(Invalidation(entity: definition.entity, id: key))
            return json
        }
        return .json(json, status: .created)
    }

    func get(_ keyText: String) async throws -> Response {
        let key = try definition.keyValue(keyText)
        let definition = self.definition
        let json = try await store.read { connection in
            try await Self.representation(of: definition, key: key, on: connection, logger: store.logger, lock: false)
        }
        guard let json else { throw APIError.notFound(definition.displayName) }
        return .json(json)
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.queryParameters
        let page = try PageRequest(query: query)
        var parameters = SQLParameters()
        var conditions: [String] = []
        let allowed = Set(definition.filters.map(\.name) + ["limit", "cursor"])
        for name in query.keys.sorted() where !allowed.contains(name) {
            throw APIError.validation(name, "unknown query parameter '\(name)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        for filter in definition.filters {
            guard let text = query[filter.name] else { continue }
            let value = try filter.validate(Self.queryValue(text, for: filter))
            conditions.append("t.\(filter.name) = \(parameters.placeholder(for: value))")
        }
        let order = definition.orderColumns
        if let after = page.after {
            guard after.count == order.count else { throw APIError.validation("cursor", "cursor is not one this API issued") }
            let casts = order.map { $0 == "created_at" ? "::timestamptz" : ($0 == "id" ? "::uuid" : "") }
            let placeholders = zip(after, casts).map { parameters.placeholder(for: .text($0)) + $1 }
            conditions.append("(\(order.map { "t.\($0)" }.joined(separator: ", "))) > (\(placeholders.joined(separator: ", ")))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let cursorColumns = order.map { "t.\($0)::text" }.joined(separator: " || chr(31) || ")
        let sql = """
            SELECT \(definition.representation), \(cursorColumns)
            FROM \(definition.table) t \(whereClause)
            ORDER BY \(order.map { "t.\($0)" }.joined(separator: ", "))
            LIMIT \(page.limit + 1)
            """
        let rows = try await store.readPage(parameters.query(sql))
        return .page(rows: rows, limit: page.limit)
    }

    func update(_ request: Request, context: BasicRequestContext, key keyText: String) async throws -> Response {
        let key = try definition.keyValue(keyText)
        let body = try await JSONRequestBody.read(request, context: context)
        let columns = try definition.fields.validate(body, isCreate: false)
        return .json(try await update(key: key, columns: columns, actor: request.actor))
    }

    /// One audited, invalidated change of validated columns (the API's PATCH and the dashboard's forms).
    func update(key: SQLValue, columns: [(column: String, value: SQLValue)], actor: String) async throws -> String {
        let definition = self.definition
        return try await store.change(actor: actor, table: definition.table) { connection, record in
            guard let before = try await Self.representation(of: definition, key: key, on: connection, logger: store.logger, lock: true) else {
                throw APIError.notFound(definition.displayName)
            }
            var parameters = SQLParameters()
            let assignments = columns.map { "\($0.column) = \(parameters.placeholder(for: $0.value))" }
            let keyPlaceholder = parameters.placeholder(for: key)
            let sql = """
                UPDATE \(definition.table) AS t SET \(assignments.joined(separator: ", ")), updated_at = now()
                WHERE t.\(definition.keyColumn) = \(keyPlaceholder)
                RETURNING \(definition.keyColumn)::text, \(definition.representation)
                """
            let (id, after) = try await Self.singleRow(connection.query(parameters.query(sql), logger: store.logger))
            record.audit("update_\(definition.noun)", entity: definition.entity, id: id, before: before, after: after)
            record.invalidate(Invalidation(
                entity: definition.entity, id: id,
                keyHash: try await Self.invalidationHash(of: definition, key: key, on: connection, logger: store.logger)
            ))
            return after
        }
    }

    func delete(_ request: Request, key keyText: String) async throws -> Response {
        let key = try definition.keyValue(keyText)
        let definition = self.definition
        try await store.change(actor: request.actor, table: definition.table) { connection, record in
            guard let before = try await Self.representation(of: definition, key: key, on: connection, logger: store.logger, lock: true) else {
                throw APIError.notFound(definition.displayName)
            }
            try await definition.beforeDelete?(connection, key, &record)
            let hash = try await Self.invalidationHash(of: definition, key: key, on: connection, logger: store.logger)
            var parameters = SQLParameters()
            let sql = "DELETE FROM \(definition.table) WHERE \(definition.keyColumn) = \(parameters.placeholder(for: key))"
            _ = try await connection.query(parameters.query(sql), logger: store.logger)
            record.audit("delete_\(definition.noun)", entity: definition.entity, id: keyText, before: before, after: nil)
            record.invalidate(Invalidation(entity: definition.entity, id: keyText, keyHash: hash))
        }
        return Response(status: .noContent)
    }

    static func representation(
        of definition: ResourceDefinition, key: SQLValue, on connection: PostgresConnection, logger: Logger, lock: Bool
    ) async throws -> String? {
        var parameters = SQLParameters()
        let sql = """
            SELECT \(definition.representation) FROM \(definition.table) t
            WHERE t.\(definition.keyColumn) = \(parameters.placeholder(for: key)) \(lock ? "FOR UPDATE" : "")
            """
        for try await json in try await connection.query(parameters.query(sql), logger: logger).decode(String.self) {
            return json
        }
        return nil
    }

    /// The value of the definition's `invalidationHashColumn` for `key`, or nil when it has none.
    static func invalidationHash(
        of definition: ResourceDefinition, key: SQLValue, on connection: PostgresConnection, logger: Logger
    ) async throws -> String? {
        guard let column = definition.invalidationHashColumn else { return nil }
        var parameters = SQLParameters()
        let sql = "SELECT \(column) FROM \(definition.table) WHERE \(definition.keyColumn) = \(parameters.placeholder(for: key))"
        for try await hash in try await connection.query(parameters.query(sql), logger: logger).decode(String.self) {
            return hash
        }
        return nil
    }

    static func singleRow(_ rows: PostgresRowSequence) async throws -> (String, String) {
        for try await row in rows.decode((String, String).self) {
            return row
        }
        throw APIError(.internalError, "the database returned no row")
    }

    /// A query-string value as the JSON value its rule expects (`enabled=true` → boolean, `weight=3` → number).
    static func queryValue(_ text: String, for rule: FieldRule) -> JSONValue {
        switch rule.kind {
        case .bool: text == "true" ? .bool(true) : (text == "false" ? .bool(false) : .string(text))
        case .integer: Int64(text).map(JSONValue.integer) ?? .string(text)
        default: .string(text)
        }
    }
}

extension Request {
    /// Who made the change, for the audit log: `X-Fairway-Actor` when given (a person or pipeline name), else "admin".
    var actor: String {
        guard let header = headers[HTTPField.Name("X-Fairway-Actor")!], !header.isEmpty, header.count <= 128,
              !header.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return "admin" }
        return "admin:\(header)"
    }
}

extension Response {
    /// A JSON response from JSON text Postgres already rendered.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `{"data":[…],"next_cursor":…}` from `limit + 1` rows of (json, cursor position).
    static func page(rows: [(String, String)], limit: Int) -> Response {
        let items = rows.prefix(limit)
        var nextCursor = "null"
        if rows.count > limit, let last = items.last {
            nextCursor = "\"\(PageRequest.encode(last.1.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)))\""
        }
        return .json("{\"data\":[\(items.map(\.0).joined(separator: ","))],\"next_cursor\":\(nextCursor)}")
    }
}
