extension ResourceDefinition {
    /// MCP servers the relay proxies under `/mcp/{name}`. `auth_header` is write-only.
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
        ],
        filters: [.flag("enabled"), .identifier("name")]
    )
}
