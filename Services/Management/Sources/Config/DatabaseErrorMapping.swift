import PostgresNIO

/// Turns constraint violations into the API's errors: unique → 409, foreign key / check → 400, naming the column.
///
/// Constraint names follow Postgres' defaults (`tenants_name_key`, `tenants_group_name_fkey`, `models_rpm_limit_check`),
/// so the field is the constraint name less its table prefix and suffix.
enum DatabaseErrorMapping {
    static func apiError(for error: any Error, table: String) -> APIError? {
        guard let error = error as? PSQLError, error.code == .server, let info = error.serverInfo,
              let state = info[.sqlState]
        else { return nil }
        let constraint = info[.constraintName] ?? ""
        let field = fieldName(constraint: constraint, table: table)
        switch state {
        case "23505":
            return APIError(.conflict, "\(field ?? "value") is already taken", field: field)
        case "23503":
            return APIError(.validation, "\(field ?? "a referenced value") does not exist", field: field)
        case "23514":
            return APIError(.validation, "\(field ?? "a value") is out of range", field: field)
        case "22P02", "22003", "22007", "22008":
            return APIError(.validation, info[.message] ?? "invalid value")
        default:
            return nil
        }
    }

    static func fieldName(constraint: String, table: String) -> String? {
        var name = Substring(constraint)
        guard name.hasPrefix(table + "_") else { return constraint.isEmpty ? nil : constraint }
        name = name.dropFirst(table.count + 1)
        for suffix in ["_key", "_fkey", "_check", "_pkey"] where name.hasSuffix(suffix) {
            name = name.dropLast(suffix.count)
            break
        }
        return String(name)
    }
}
