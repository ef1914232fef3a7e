import FairwayCore
import Foundation
import HTTPTypes

/// A registered MCP server as the relay proxies it (DESIGN §8): where it is, the credential injected, and who may use
/// which of its tools.
public struct MCPServer: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var baseURL: String
    /// The injected credential: `Authorization`'s value, unless it names its own header (`X-Token: secret`).
    public var authHeader: String?
    public var enabled: Bool
    /// Both nil: every tenant and key. Otherwise a caller needs its tenant or its key listed.
    public var allowedTenants: Set<UUID>?
    public var allowedKeys: Set<UUID>?
    /// Nil: every tool.
    public var allowedTools: Set<String>?

    public init(
        id: UUID, name: String, baseURL: String, authHeader: String? = nil, enabled: Bool = true,
        allowedTenants: Set<UUID>? = nil, allowedKeys: Set<UUID>? = nil, allowedTools: Set<String>? = nil
    ) {
        self.id = id
        self.name = name
        self.baseURL = baseURL
        self.authHeader = authHeader
        self.enabled = enabled
        self.allowedTenants = allowedTenants
        self.allowedKeys = allowedKeys
        self.allowedTools = allowedTools
    }

    public func admits(_ key: AuthenticatedKey) -> Bool {
        guard allowedTenants != nil || allowedKeys != nil else { return true }
        return allowedTenants?.contains(key.tenant.id) == true || allowedKeys?.contains(key.key.id) == true
    }

    public func allowsTool(_ name: String) -> Bool {
        allowedTools?.contains(name) ?? true
    }

    /// The header the credential goes in: `Name: value` when the text starts with a header name and a colon,
    /// else `Authorization: text`.
    var credential: HTTPField? {
        guard let authHeader, !authHeader.isEmpty else { return nil }
        if let colon = authHeader.firstIndex(of: ":"),
           let name = HTTPField.Name(String(authHeader[..<colon])) {
            let value = authHeader[authHeader.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            return HTTPField(name: name, value: value)
        }
        return HTTPField(name: .authorization, value: authHeader)
    }
}

/// The server a request path names: `/mcp/<name>` exactly, with a name as management accepts it. Anything else —
/// more segments, dot segments, percent-encoding, an empty name — names no server.
enum MCPPath {
    static func serverName(rawPath: String) -> String? {
        guard rawPath.hasPrefix("/mcp/") else { return nil }
        let name = rawPath.dropFirst(5)
        guard let first = name.unicodeScalars.first, name.count <= 64, isAlphanumeric(first),
              name.unicodeScalars.allSatisfy({ isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" })
        else { return nil }
        return String(name)
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
    }
}
