import FairwayCore
import Foundation

/// A stored API key as auth needs it; the secret itself is never stored, only its hash.
public struct StoredKey: Sendable, Equatable {
    public var id: UUID
    public var tenantID: UUID
    public var disabled: Bool
    /// Microseconds since the Unix epoch.
    public var expiresAt: Int64?
    public var limits: KeyLimits

    public init(id: UUID, tenantID: UUID, disabled: Bool = false, expiresAt: Int64? = nil, limits: KeyLimits = KeyLimits()) {
        self.id = id
        self.tenantID = tenantID
        self.disabled = disabled
        self.expiresAt = expiresAt
        self.limits = limits
    }

    public func isUsable(atMicroseconds now: Int64) -> Bool {
        !disabled && (expiresAt.map { $0 > now } ?? true)
    }
}

/// A key's own governance (DESIGN §13): its budget, the models it may use, its request and token rates.
public struct KeyLimits: Sendable, Equatable {
    public var budget: Budget?
    /// Model or group names, as clients send them; nil = every model.
    public var allowedModels: Set<String>?
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int64?

    public init(budget: Budget? = nil, allowedModels: Set<String>? = nil, requestsPerMinute: Int? = nil, tokensPerMinute: Int64? = nil) {
        self.budget = budget
        self.allowedModels = allowedModels.flatMap { $0.isEmpty ? nil : $0 }
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
    }

    /// Whether a request may name this model; a group is allowed by its own name, whatever its members are called.
    public func allows(_ model: String) -> Bool {
        allowedModels?.contains(model) ?? true
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
