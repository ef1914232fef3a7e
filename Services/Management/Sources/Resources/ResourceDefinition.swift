import Foundation
import PostgresNIO

/// Everything the generic CRUD routes need to know about one configuration table.
///
/// A resource is data, not code: its table, its key, the rules for each writable field, which fields are secrets, how
/// it is filtered and ordered, and how Postgres renders it as JSON. Special behaviour (a tenant's keys on delete, a
/// group still in use) hangs off two small hooks.
struct ResourceDefinition: Sendable {
    enum Key: Sendable {
        /// `id uuid`, ordered by `(created_at, id)`.
        case uuid
        /// A natural text key such as `fairshare_groups.name`, ordered by itself.
        case name(column: String)
    }

    /// URL segment: `/v1/<path>`.
    let path: String
    let table: String
    /// Singular name in audit rows and invalidations (`tenant`, `model`, `fairshare_group`).
    let entity: String
    let key: Key
    let fields: [FieldRule]
    /// Query parameters accepted by the list route, validated with the same rules as the fields.
    let filters: [FieldRule]
    /// Columns never shown (not even as a flag), e.g. `api_keys.key_hash`.
    var hiddenColumns: [String] = []
    /// Column whose value goes into invalidations as `key_hash` (API keys), so relays drop exactly that cache entry.
    var invalidationHashColumn: String?
    /// Whether `POST /v1/<path>` exists (keys are created under their tenant instead).
    var allowsCreate = true
    /// The noun in audit actions (`update_key`); defaults to `entity`.
    var actionNoun: String?
    /// Extra JSON merged into each row's representation (SQL over alias `t`), e.g. a group's members.
    var extraRepresentation: String?
    /// Runs inside the delete transaction before the row goes; may refuse (409) or record invalidations.
    var beforeDelete: (@Sendable (PostgresConnection, SQLValue, inout ChangeRecord) async throws -> Void)?

    var noun: String { actionNoun ?? entity }

    /// Human name for messages ("model group").
    var displayName: String { entity.replacingOccurrences(of: "_", with: " ") }

    var keyColumn: String {
        switch key {
        case .uuid: "id"
        case .name(let column): column
        }
    }

    var orderColumns: [String] {
        switch key {
        case .uuid: ["created_at", "id"]
        case .name(let column): [column]
        }
    }

    /// SQL (over alias `t`) producing the JSON text clients see: every column except secrets, which appear only as
    /// `has_<name>`, with times in UTC.
    var representation: String {
        var removed = hiddenColumns.map { " - '\($0)'" }.joined()
        var flags: [String] = []
        for field in fields where field.secret {
            removed += " - '\(field.name)'"
            flags.append("'has_\(field.name)', t.\(field.name) IS NOT NULL")
        }
        var json = "(to_jsonb(t)\(removed))"
        if !flags.isEmpty {
            json += " || jsonb_build_object(\(flags.joined(separator: ", ")))"
        }
        if let extraRepresentation {
            json += " || \(extraRepresentation)"
        }
        return "(\(json))::text"
    }

    /// Parses the key from a path segment: a UUID for `.uuid` resources, any non-empty text otherwise.
    func keyValue(_ text: String) throws(APIError) -> SQLValue {
        switch key {
        case .uuid:
            guard let id = UUID(uuidString: text) else { throw .notFound(displayName) }
            return .uuid(id)
        case .name:
            return .text(text)
        }
    }
}
