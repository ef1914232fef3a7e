import FairwayCore
import PostgresNIO

extension ResourceDefinition {
    /// Tenants: who pays and who gets a fair share. Deleting one deletes its keys (cascade) and tells every relay to
    /// drop them from its key cache at once.
    static let tenants = ResourceDefinition(
        path: "tenants",
        table: "tenants",
        entity: "tenant",
        key: .uuid,
        fields: [
            .identifier("name"),
            .weight(),
            FieldRule(name: "tokens_per_minute", kind: .integer(0...1_000_000_000_000)),
            FieldRule(name: "group_name", kind: .name(maxLength: 64, extra: "._-"), nullable: true),
            .optionalLimit("max_concurrency", max: 1_000_000),
        ] + FieldRule.budgetFields,
        filters: [FieldRule(name: "group_name", kind: .name(maxLength: 64, extra: "._-")), .identifier("name")],
        extraRepresentation: budgetRepresentation(ownerKind: "tenant"),
        beforeDelete: { connection, key, record in
            guard case .uuid(let tenantID) = key else { return }
            let rows = try await connection.query(
                "SELECT id::text, key_hash FROM api_keys WHERE tenant_id = \(tenantID) FOR UPDATE",
                logger: .init(label: "fairway.management")
            )
            for try await (keyID, hash) in rows.decode((String, String).self) {
                record.invalidate(Invalidation(entity: "api_key", id: keyID, keyHash: hash))
            }
        }
    )
}
