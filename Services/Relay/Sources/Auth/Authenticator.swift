import FairwayCore
import Foundation
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

    /// The secret from `Authorization: Bearer …` or, for Anthropic-style clients, `x-api-key`.
    public static func secret(from headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return String(parts[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        if let name = HTTPField.Name("x-api-key"), let key = headers[name] {
            return key.trimmingCharacters(in: .whitespaces)
        }
        return nil
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
