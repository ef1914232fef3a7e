extension ResourceDefinition {
    /// Models: one upstream deployment each. `api_key` is write-only. Deleting a model removes its group memberships
    /// (cascade); the invalidation makes relays reload their snapshot.
    static let models = ResourceDefinition(
        path: "models",
        table: "models",
        entity: "model",
        key: .uuid,
        fields: [
            .modelName("model_name"),
            FieldRule(name: "provider", kind: .enumeration(["openai", "anthropic"]), requiredOnCreate: true),
            .modelName("upstream_model"),
            FieldRule(name: "api_base", kind: .url, requiredOnCreate: true),
            FieldRule(name: "api_key", kind: .text(maxLength: 4096), nullable: true, secret: true),
            FieldRule(name: "input_cost_per_token", kind: .decimal(minimumExclusive: false)),
            FieldRule(name: "output_cost_per_token", kind: .decimal(minimumExclusive: false)),
            FieldRule(name: "cache_read_cost_per_token", kind: .decimal(minimumExclusive: false), nullable: true),
            FieldRule(name: "cache_write_cost_per_token", kind: .decimal(minimumExclusive: false), nullable: true),
            .flag("supports_responses_api"),
            .optionalLimit("context_window", max: 100_000_000),
            FieldRule(name: "admission_weight", kind: .double(minimumExclusive: 0)),
            .optionalLimit("max_concurrency", max: 1_000_000),
            .optionalLimit("rpm_limit"),
            .optionalLimit("tpm_limit", max: 1_000_000_000_000),
            .flag("supports_function_calling"),
            .flag("supports_system_messages"),
            .flag("enabled"),
            .flag("cache_enabled"),
            FieldRule(name: "cache_ttl_secs", kind: .integer(1...30 * 86_400)),
            FieldRule(name: "timeout_secs", kind: .integer(1...3_600)),
        ],
        filters: [
            FieldRule(name: "provider", kind: .enumeration(["openai", "anthropic"])),
            .flag("enabled"),
            .modelName("model_name"),
        ]
    )
}
