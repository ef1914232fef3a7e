import FairwayCore
import Foundation
import Hummingbird
import PostgresNIO

/// `POST /v1/model-groups/{id}/members` and `DELETE /v1/model-groups/{id}/members/{model_id}`.
/// Each is a change of the group: audited with the group's before/after (members included) and invalidated as such.
struct ModelGroupMemberRoutes: Sendable {
    let store: ConfigStore

    static let fields: [FieldRule] = [
        FieldRule(name: "model_id", kind: .uuid, requiredOnCreate: true),
        FieldRule(name: "priority", kind: .integer(-1_000_000...1_000_000)),
        .flag("enabled"),
    ]

    func register(on group: RouterGroup<BasicRequestContext>) {
        group.post("model-groups/:id/members") { request, context in
            try await add(request, context: context, groupText: try context.parameters.require("id"))
        }
        group.delete("model-groups/:id/members/:model_id") { request, context in
            try await remove(request, groupText: try context.parameters.require("id"), modelText: try context.parameters.require("model_id"))
        }
    }

    func add(_ request: Request, context: BasicRequestContext, groupText: String) async throws -> Response {
        let definition = ResourceDefinition.modelGroups
        let groupKey = try definition.keyValue(groupText)
        let body = try await JSONRequestBody.read(request, context: context)
        let columns = try Self.fields.validate(body, isCreate: true)
        guard case .uuid(let modelID)? = columns.first(where: { $0.column == "model_id" })?.value else {
            throw APIError.validation("model_id", "model_id is required")
        }
        let json = try await store.change(actor: request.actor, table: "model_group_members") { connection, record in
            guard let before = try await ResourceRoutes.representation(of: definition, key: groupKey, on: connection, logger: store.logger, lock: true) else {
                throw APIError.notFound("model group")
            }
            var modelExists = false
            for try await _ in try await connection.query("SELECT 1 FROM models WHERE id = \(modelID)", logger: store.logger) {
                modelExists = true
            }
            guard modelExists else { throw APIError.validation("model_id", "no model with id \(modelID)") }
            var parameters = SQLParameters()
            let names = ["group_id"] + columns.map(\.column)
            let placeholders = ([groupKey] + columns.map(\.value)).map { parameters.placeholder(for: $0) }
            let sql = """
                INSERT INTO model_group_members (\(names.joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))
                ON CONFLICT (group_id, model_id) DO NOTHING RETURNING 1
                """
            var inserted = false
            for try await _ in try await connection.query(parameters.query(sql), logger: store.logger) { inserted = true }
            guard inserted else { throw APIError(.conflict, "model \(modelID) is already a member of this group", field: "model_id") }
            guard let after = try await ResourceRoutes.representation(of: definition, key: groupKey, on: connection, logger: store.logger, lock: false) else {
                throw APIError.notFound("model group")
            }
            record.audit("add_model_group_member", entity: definition.entity, id: groupText, before: before, after: after)
            record.invalidate(Invalidation(entity: definition.entity, id: groupText))
            return after
        }
        return .json(json, status: .created)
    }

    func remove(_ request: Request, groupText: String, modelText: String) async throws -> Response {
        let definition = ResourceDefinition.modelGroups
        let groupKey = try definition.keyValue(groupText)
        guard let modelID = UUID(uuidString: modelText) else { throw APIError.notFound("member") }
        try await store.change(actor: request.actor, table: "model_group_members") { connection, record in
            guard let before = try await ResourceRoutes.representation(of: definition, key: groupKey, on: connection, logger: store.logger, lock: true) else {
                throw APIError.notFound("model group")
            }
            guard case .uuid(let groupID) = groupKey else { throw APIError.notFound("model group") }
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM model_group_members WHERE group_id = \(groupID) AND model_id = \(modelID) RETURNING 1",
                logger: store.logger
            ) {
                removed = true
            }
            guard removed else { throw APIError.notFound("member") }
            let after = try await ResourceRoutes.representation(of: definition, key: groupKey, on: connection, logger: store.logger, lock: false)
            record.audit("remove_model_group_member", entity: definition.entity, id: groupText, before: before, after: after)
            record.invalidate(Invalidation(entity: definition.entity, id: groupText))
        }
        return Response(status: .noContent)
    }
}
