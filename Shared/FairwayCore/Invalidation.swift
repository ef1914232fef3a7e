import Foundation

/// The message management publishes on `fairway:invalidate` after a committed change (DESIGN §4).
///
/// A relay drops one key-cache entry for an `api_key` message carrying `key_hash`, and reloads its configuration
/// snapshot for anything else.
public struct Invalidation: Sendable, Equatable, Codable {
    public static let channel = "fairway:invalidate"

    public var entity: String
    public var id: String
    public var keyHash: String?
    public var version: Int64

    public init(entity: String, id: String, keyHash: String? = nil, version: Int64 = 0) {
        self.entity = entity
        self.id = id
        self.keyHash = keyHash
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case entity
        case id
        case keyHash = "key_hash"
        case version
    }

    /// Reads a message as published; nil for anything that is not one.
    public init?(json: String) {
        guard let value = try? JSONDecoder().decode(Invalidation.self, from: Data(json.utf8)) else { return nil }
        self = value
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
