extension ResourceDefinition {
    /// MCP servers the relay proxies under `/mcp/{name}`. `auth_header` is write-only (`Authorization` value, or
    /// `Header-Name: value`). `allowed_tenant_ids` / `allowed_key_ids` limit who may use it (both null = everyone);
    /// `allowed_tools` limits its tools (null = all).
    static let mcpServers = ResourceDefinition(
        path: "mcp-servers",
        table: "mcp_servers",
        entity: "mcp_server",
        key: .uuid,
        fields: [
            .identifier("name"),
            FieldRule(name: "base_url", kind: .url, requiredOnCreate: true),
            FieldRule(name: "auth_header", kind: .text(maxLength: 4096), nullable: true, secret: true),
            .flag("enabled"),
            FieldRule(name: "allowed_tenant_ids", kind: .list(maxCount: 1000, of: .uuid), nullable: true),
            FieldRule(name: "allowed_key_ids", kind: .list(maxCount: 1000, of: .uuid), nullable: true),
            FieldRule(name: "allowed_tools", kind: .list(maxCount: 1000, of: .name(maxLength: 128, extra: "._-/:")), nullable: true),
        ],
        filters: [.flag("enabled"), .identifier("name")]
    )
}
