import PostgresNIO

extension ResourceDefinition {
    /// Fair-share groups (hierarchical mode), keyed by name. A group that tenants still use cannot be deleted.
    static let fairshareGroups = ResourceDefinition(
        path: "fairshare-groups",
        table: "fairshare_groups",
        entity: "fairshare_group",
        key: .name(column: "name"),
        fields: [.identifier("name", updatable: false), .weight()],
        filters: [],
        beforeDelete: { connection, key, _ in
            guard case .text(let name) = key else { return }
            var count = 0
            for try await value in try await connection.query(
                "SELECT count(*)::int FROM tenants WHERE group_name = \(name)", logger: .init(label: "fairway.management")
            ).decode(Int.self) {
                count = value
            }
            if count > 0 {
                throw APIError(.conflict, "fairshare group '\(name)' is used by \(count) tenant(s); move them first", field: "name")
            }
        }
    )
}
