/// Field rules shared by several resources, so the same kind of value is validated the same way everywhere.
extension FieldRule {
    /// Tenant, group and MCP server names: 1–64 of letters, digits, `.`, `_`, `-`.
    static func identifier(_ name: String, updatable: Bool = true) -> FieldRule {
        FieldRule(name: name, kind: .name(maxLength: 64, extra: "._-"), requiredOnCreate: true, updatable: updatable)
    }

    /// Model names as clients send them (`gpt-4o`, `meta-llama/Llama-3-8B`, `llama3:8b`): 1–256 characters.
    static func modelName(_ name: String, required: Bool = true) -> FieldRule {
        FieldRule(name: name, kind: .name(maxLength: 256, extra: "._-:/@+"), requiredOnCreate: required)
    }

    static func weight(_ name: String = "weight") -> FieldRule {
        FieldRule(name: name, kind: .integer(1...1_000_000))
    }

    static func optionalLimit(_ name: String, max: Int64 = 1_000_000_000) -> FieldRule {
        FieldRule(name: name, kind: .integer(1...max), nullable: true)
    }

    static func flag(_ name: String) -> FieldRule {
        FieldRule(name: name, kind: .bool)
    }
}
