import Foundation
import PostgresNIO

/// Accumulates bind values while a statement is assembled, handing back `$n` placeholders with the right cast.
struct SQLParameters {
    private(set) var bindings = PostgresBindings()
    private var count = 0

    mutating func placeholder(for value: SQLValue) -> String {
        count += 1
        switch value {
        case .null: bindings.appendNull()
        case .text(let text): bindings.append(text)
        case .integer(let number): bindings.append(Int(number))
        case .double(let number): bindings.append(number)
        case .bool(let flag): bindings.append(flag)
        case .decimal(let text):
            bindings.append(text)
            return "$\(count)::numeric"
        case .uuid(let id): bindings.append(id)
        case .timestamp(let date): bindings.append(date)
        case .uuidArray(let ids):
            bindings.append(ids)
            return "$\(count)::uuid[]"
        case .textArray(let texts):
            bindings.append(texts)
            return "$\(count)::text[]"
        }
        return "$\(count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}
