import Foundation
import Hummingbird

/// `limit` and `cursor` of a list request (DESIGN §7: default 50, at most 500).
///
/// Cursors are keyset positions — the sort values of the last row returned — so pages stay consistent while rows are
/// added, and no page ever needs an OFFSET scan. They are opaque to clients (base64url of a JSON array).
struct PageRequest: Sendable {
    static let defaultLimit = 50
    static let maximumLimit = 500

    var limit: Int
    var after: [String]?

    init(limit: Int = defaultLimit, after: [String]? = nil) {
        self.limit = limit
        self.after = after
    }

    init(query: [String: String]) throws(APIError) {
        limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw .validation("limit", "limit must be a whole number from 1 to \(Self.maximumLimit)")
            }
            limit = value
        }
        after = nil
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard let values = Self.decode(cursor) else { throw .validation("cursor", "cursor is not one this API issued") }
            after = values
        }
    }

    static func encode(_ values: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: values)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> [String]? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
              let values = try? JSONSerialization.jsonObject(with: data) as? [String]
        else { return nil }
        return values
    }
}

extension Request {
    /// The query string as a dictionary (last value wins).
    var queryParameters: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in uri.queryParameters {
            result[String(key)] = String(value)
        }
        return result
    }
}
