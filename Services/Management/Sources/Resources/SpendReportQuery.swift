import Foundation

/// A validated spend report request: range, filters, grouping, page. Pure, so its rules are unit-tested.
struct SpendReportQuery: Sendable, Equatable {
    enum Dimension: String, Sendable, CaseIterable {
        case day, tenant, key, model, group
    }

    static let maximumDays = 366
    static let defaultLimit = 500
    static let maximumLimit = 5000

    var from: String
    var to: String
    var tenantID: UUID?
    var apiKeyID: UUID?
    var model: String?
    var groupBy: [Dimension]
    var limit: Int
    var after: [String]?

    init(query: [String: String], today: Date = Date(), allowGroupBy: Bool = true) throws(APIError) {
        let allowed: Set<String> = allowGroupBy
            ? ["from", "to", "tenant_id", "api_key_id", "model", "group_by", "limit", "cursor"]
            : ["from", "to"]
        for name in query.keys.sorted() where !allowed.contains(name) {
            throw .validation(name, "unknown query parameter '\(name)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        let todayText = Self.format(today)
        to = query["to"] ?? todayText
        guard let end = Self.parse(to) else { throw .validation("to", "to must be a date, YYYY-MM-DD") }
        from = query["from"] ?? Self.format(end.addingTimeInterval(-29 * 86_400))
        guard let start = Self.parse(from) else { throw .validation("from", "from must be a date, YYYY-MM-DD") }
        guard start <= end else { throw .validation("from", "from must not be after to") }
        let days = Int((end.timeIntervalSince(start) / 86_400).rounded()) + 1
        guard days <= Self.maximumDays else {
            throw .validation("to", "the range covers \(days) days; at most \(Self.maximumDays) are allowed")
        }
        if let text = query["tenant_id"] {
            guard let id = UUID(uuidString: text) else { throw .validation("tenant_id", "tenant_id must be a UUID") }
            tenantID = id
        }
        if let text = query["api_key_id"] {
            guard let id = UUID(uuidString: text) else { throw .validation("api_key_id", "api_key_id must be a UUID") }
            apiKeyID = id
        }
        if let text = query["model"] {
            guard !text.isEmpty, text.count <= 256 else { throw .validation("model", "model must be 1 to 256 characters") }
            model = text
        }
        groupBy = [.day]
        if let text = query["group_by"] {
            var dimensions: [Dimension] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let dimension = Dimension(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                    throw .validation(
                        "group_by",
                        "group_by takes a comma-separated list of: \(Dimension.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                if !dimensions.contains(dimension) { dimensions.append(dimension) }
            }
            groupBy = dimensions
        }
        limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw .validation("limit", "limit must be a whole number from 1 to \(Self.maximumLimit)")
            }
            limit = value
        }
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard let values = PageRequest.decode(cursor), values.count == groupBy.count else {
                throw .validation("cursor", "cursor is not one this API issued for this grouping")
            }
            after = values
        }
    }

    static func parse(_ text: String) -> Date? {
        guard text.count == 10 else { return nil }
        return try? Date.ISO8601FormatStyle().year().month().day().parse(text)
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}
