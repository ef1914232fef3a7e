import FairwayCore
import HTTPTypes
import Logging
import Metrics

/// An authenticated caller: the key and its tenant.
public struct AuthenticatedKey: Sendable, Equatable {
    public var key: StoredKey
    public var tenant: Tenant
}

/// Turns request headers into an ``AuthenticatedKey`` (DESIGN §3).
///
/// Disabled, expired and unknown keys all get the same 401 so a caller cannot probe which it was; a lookup that
/// fails because Postgres is unreachable is a 503, never a 401, so no client concludes its key was revoked.
public struct Authenticator: Sendable {
    public enum Outcome: Sendable, Equatable {
        case authenticated(AuthenticatedKey)
        case unauthorized
        case unavailable
        /// Too many lookups reached for Postgres at once; the client should retry (never a 401).
        case throttled
    }

    public let cache: ConfigCache
    private let failures = Counter(label: "fairway_auth_failures_total")
    private let unavailable = Counter(label: "fairway_auth_unavailable_total")
    private let throttled = Counter(label: "fairway_auth_throttled_total")

    public init(cache: ConfigCache) {
        self.cache = cache
    }

    /// The secret from `Authorization: Bearer …` or, for Anthropic-style clients, `x-api-key`. Read on the header's
    /// bytes: it runs on every request.
    public static func secret(from headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization] {
            let bytes = authorization.utf8
            let scheme = "bearer".utf8
            if bytes.count > scheme.count, let space = bytes.firstIndex(of: 0x20),
               bytes.distance(from: bytes.startIndex, to: space) == scheme.count,
               zip(bytes[..<space], scheme).allSatisfy({ $0 | 0x20 == $1 }) {
                return trimmed(authorization.utf8[bytes.index(after: space)...])
            }
        }
        if let key = headers[.xAPIKey] {
            return trimmed(key.utf8[...])
        }
        return nil
    }

    /// The text without surrounding spaces and tabs.
    private static func trimmed(_ bytes: Substring.UTF8View) -> String {
        let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(Substring(bytes[first...last]))
    }

    public func authenticate(headers: HTTPFields) async -> Outcome {
        guard let secret = Self.secret(from: headers), APIKeySecret.looksValid(secret) else {
            failures.increment()
            return .unauthorized
        }
        return await authenticate(secret: secret)
    }

    public func authenticate(secret: String) async -> Outcome {
        let hash = APIKeySecret.hash(secret)
        let stored: StoredKey?
        do {
            stored = try await cache.storedKey(hash: hash)
        } catch is ConfigCache.LookupThrottled {
            throttled.increment()
            return .throttled
        } catch {
            unavailable.increment()
            return .unavailable
        }
        let now = UnixClock.microseconds()
        guard let stored, stored.isUsable(atMicroseconds: now) else {
            failures.increment()
            return .unauthorized
        }
        if let tenant = cache.snapshot.tenants[stored.tenantID] {
            return .authenticated(AuthenticatedKey(key: stored, tenant: tenant))
        }
        // A tenant created after the last snapshot: catch up with Postgres before refusing.
        if let tenant = await cache.current().tenants[stored.tenantID] {
            return .authenticated(AuthenticatedKey(key: stored, tenant: tenant))
        }
        failures.increment()
        return .unauthorized
    }
}

extension HTTPField.Name {
    /// Anthropic clients send their key here.
    // A valid literal field name: the initializer only fails on characters this literal does not contain.
    static let xAPIKey = HTTPField.Name("x-api-key")!
}
