import Foundation

/// A stored API key as auth needs it; the secret itself is never stored, only its hash.
public struct StoredKey: Sendable, Equatable {
    public var id: UUID
    public var tenantID: UUID
    public var disabled: Bool
    /// Microseconds since the Unix epoch.
    public var expiresAt: Int64?

    public init(id: UUID, tenantID: UUID, disabled: Bool = false, expiresAt: Int64? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.disabled = disabled
        self.expiresAt = expiresAt
    }

    public func isUsable(atMicroseconds now: Int64) -> Bool {
        !disabled && (expiresAt.map { $0 > now } ?? true)
    }
}

/// Where the relay reads configuration from (Postgres in production); a seam so auth and snapshot logic can be tested
/// without a server.
public protocol ConfigSource: Sendable {
    func loadSnapshot() async throws -> ConfigSnapshot
    func currentVersion() async throws -> Int64
    /// The key with this SHA-256 hex hash, or nil when there is none.
    func key(hash: String) async throws -> StoredKey?
}
