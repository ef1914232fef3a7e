import FairwayCore
import Foundation
import Hummingbird
import PostgresNIO

extension ResourceDefinition {
    /// API keys. Listed, read, patched and deleted through the generic routes; created under a tenant and rotated by
    /// ``APIKeyRoutes``. `key_hash` is never shown; every change invalidates exactly that hash on the relays.
    static let apiKeys = ResourceDefinition(
        path: "keys",
        table: "api_keys",
        entity: "api_key",
        key: .uuid,
        fields: [
            FieldRule(name: "name", kind: .name(maxLength: 128, extra: " ._-:/@"), requiredOnCreate: true),
            .flag("disabled"),
            FieldRule(name: "expires_at", kind: .timestamp, nullable: true),
        ] + FieldRule.budgetFields + FieldRule.keyLimitFields,
        filters: [FieldRule(name: "tenant_id", kind: .uuid), .flag("disabled")],
        hiddenColumns: ["key_hash"],
        invalidationHashColumn: "key_hash",
        allowsCreate: false,
        actionNoun: "key",
        extraRepresentation: budgetRepresentation(ownerKind: "api_key")
    )
}

/// `POST /v1/tenants/{id}/keys` and `POST /v1/keys/{id}/rotate`: the two places a secret is made and shown, once.
struct APIKeyRoutes: Sendable {
    let store: ConfigStore
    private var definition: ResourceDefinition { .apiKeys }

    func register(on group: RouterGroup<BasicRequestContext>) {
        group.post("tenants/:id/keys") { request, context in
            try await create(request, context: context, tenantText: try context.parameters.require("id"))
        }
        group.post("keys/:id/rotate") { request, context in
            try await rotate(request, context: context, keyText: try context.parameters.require("id"))
        }
    }

    func create(_ request: Request, context: BasicRequestContext, tenantText: String) async throws -> Response {
        guard let tenantID = UUID(uuidString: tenantText) else { throw APIError.notFound("tenant") }
        let body = try await JSONRequestBody.read(request, context: context)
        let columns = try definition.fields.validate(body, isCreate: true)
        let secret = APIKeySecret.generate()
        let definition = self.definition
        let json = try await store.change(actor: request.actor, table: definition.table) { connection, record in
            var exists = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM tenants WHERE id = \(tenantID) FOR SHARE", logger: store.logger
            ) {
                exists = true
            }
            guard exists else { throw APIError.notFound("tenant") }
            var parameters = SQLParameters()
            let names = ["tenant_id", "key_hash", "key_prefix"] + columns.map(\.column)
            let values = [SQLValue.uuid(tenantID), .text(secret.hash), .text(secret.displayPrefix)] + columns.map(\.value)
            let placeholders = values.map { parameters.placeholder(for: $0) }
            let sql = """
                INSERT INTO api_keys AS t (\(names.joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))
                RETURNING id::text, \(definition.representation)
                """
            let (id, json) = try await ResourceRoutes.singleRow(connection.query(parameters.query(sql), logger: store.logger))
            record.audit("create_key", entity: definition.entity, id: id, before: nil, after: json)
            record.invalidate(Invalidation(entity: definition.entity, id: id, keyHash: secret.hash))
            return json
        }
        return .json(Self.revealing(secret, in: json), status: .created)
    }

    func rotate(_ request: Request, context: BasicRequestContext, keyText: String) async throws -> Response {
        guard let keyID = UUID(uuidString: keyText) else { throw APIError.notFound("api key") }
        _ = try await JSONRequestBody.read(request, context: context, allowEmpty: true).rejectUnknown(allowed: [])
        return .json(try await rotate(keyID: keyID, actor: request.actor))
    }

    /// Replaces a key's secret (audited, invalidated); the representation with the new secret, shown this once.
    func rotate(keyID: UUID, actor: String) async throws -> String {
        let keyText = keyID.lowercaseText
        let secret = APIKeySecret.generate()
        let definition = self.definition
        let json = try await store.change(actor: actor, table: definition.table) { connection, record in
            guard let before = try await ResourceRoutes.representation(
                of: definition, key: .uuid(keyID), on: connection, logger: store.logger, lock: true
            ), let oldHash = try await ResourceRoutes.invalidationHash(
                of: definition, key: .uuid(keyID), on: connection, logger: store.logger
            ) else {
                throw APIError.notFound("api key")
            }
            let (_, after) = try await ResourceRoutes.singleRow(connection.query(
                """
                UPDATE api_keys AS t SET key_hash = \(secret.hash), key_prefix = \(secret.displayPrefix), updated_at = now()
                WHERE t.id = \(keyID)
                RETURNING id::text, \(unescaped: definition.representation)
                """,
                logger: store.logger
            ))
            record.audit("rotate_key", entity: definition.entity, id: keyText, before: before, after: after)
            record.invalidate(Invalidation(entity: definition.entity, id: keyText, keyHash: oldHash))
            return after
        }
        return Self.revealing(secret, in: json)
    }

    /// The stored representation with the one-time `"key"` added (base62, so no escaping is needed).
    static func revealing(_ secret: APIKeySecret, in json: String) -> String {
        "{\"key\":\"\(secret.value)\"," + json.dropFirst()
    }
}
