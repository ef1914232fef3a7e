import Crypto
import FairwayCore
import Foundation
import HTTPTypes

/// Whether and how one request uses the response cache (DESIGN §5 step 3): its key, and whether it may read or write.
///
/// The key is SHA-256 over the canonical JSON (sorted keys, no insignificant whitespace) of what changes the answer —
/// the endpoint, the requested model, every candidate deployment with its cache generation, and the body without
/// `stream`, `stream_options`, `user` and `metadata` (who asks and how it is delivered do not change the answer). It
/// lives under the tenant's hash tag, so one tenant never sees another's answer.
struct CachePlan: Sendable, Equatable {
    var key: String
    var read: Bool
    var write: Bool
    /// Whether the client asked for usage in a stream (a replay then ends with a usage chunk).
    var wantsUsage: Bool

    /// Members that do not change the answer.
    static let ignoredMembers: Set<String> = ["stream", "stream_options", "user", "metadata", "model"]

    /// Nil when the endpoint is not cached or no candidate deployment has its cache on.
    init?(endpoint: RelayEndpoint, parsed: ParsedRequest, route: Route, tenant: UUID, cacheControl: String?) {
        guard endpoint.generates, route.candidates.contains(where: { $0.deployment.cache.enabled }) else { return nil }
        let directives = Self.directives(cacheControl)
        var body = JSONObject()
        for member in parsed.body where !Self.ignoredMembers.contains(member.key) { body[member.key] = member.value }
        let scope: JSON = [
            "endpoint": .string(endpoint.rawValue),
            "model": .string(parsed.model),
            "deployments": .array(route.candidates.map {
                .string($0.deployment.id.lowercaseText + ":" + String($0.deployment.cache.generation))
            }),
            "body": .object(body),
        ]
        let digest = SHA256.hash(data: scope.canonicalBytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        key = "fw:{ten:\(tenant.lowercaseText)}:cache:" + digest
        read = !directives.contains("no-cache")
        write = !directives.contains("no-store")
        wantsUsage = parsed.clientWantsUsage
    }

    static func directives(_ header: String?) -> Set<String> {
        guard let header else { return [] }
        return Set(header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}

extension HTTPField.Name {
    /// `hit` or `miss` on every answer to a request the cache could serve.
    static let fairwayCache = HTTPField.Name("x-fairway-cache")!
}
