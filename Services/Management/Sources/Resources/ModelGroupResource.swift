extension ResourceDefinition {
    static let failoverStrategies = ["priority", "quota_aware", "round_robin"]

    /// Model groups: a logical model name backed by several deployments tried in strategy order. Their representation
    /// carries the members, lowest priority first.
    static let modelGroups = ResourceDefinition(
        path: "model-groups",
        table: "model_groups",
        entity: "model_group",
        key: .uuid,
        fields: [
            .modelName("name"),
            FieldRule(name: "display_name", kind: .text(maxLength: 256), nullable: true),
            FieldRule(name: "description", kind: .text(maxLength: 4096), nullable: true),
            .flag("enabled"),
            FieldRule(name: "failover_strategy", kind: .enumeration(failoverStrategies)),
        ],
        filters: [.flag("enabled"), .modelName("name")],
        extraRepresentation: """
            jsonb_build_object('members', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                           'model_id', m.model_id, 'model_name', md.model_name,
                           'priority', m.priority, 'enabled', m.enabled)
                       ORDER BY m.priority, md.model_name)
                FROM model_group_members m JOIN models md ON md.id = m.model_id
                WHERE m.group_id = t.id), '[]'::jsonb))
            """
    )
}
