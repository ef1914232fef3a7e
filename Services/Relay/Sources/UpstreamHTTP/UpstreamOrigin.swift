/// Where an upstream request goes — scheme, host and port, the connection pool's key — and the request target.
///
/// Parsed by hand from the URL a provider built (a deployment's `api_base` plus a path): the relay does this per
/// request, and management already checked `api_base` is an absolute http(s) URL with a host.
struct UpstreamOrigin: Hashable, Sendable {
    var tls: Bool
    var host: String
    var port: Int

    /// The `Host` header: the port only when it is not the scheme's default; IPv6 literals in brackets.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (tls ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Whether the host is an IP literal (no SNI name to send for it).
    var hostIsAddress: Bool {
        host.contains(":") || host.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
    }

    /// The origin and the request target (path and query, `/` when empty) of an absolute http(s) URL; nil for
    /// anything else, a URL with credentials in it included (a deployment's key goes in `api_key`).
    static func parse(_ url: String) -> (origin: UpstreamOrigin, target: String)? {
        let bytes = Array(url.utf8)
        let tls: Bool
        var index: Int
        if Self.hasPrefix(bytes, "https://") {
            (tls, index) = (true, 8)
        } else if Self.hasPrefix(bytes, "http://") {
            (tls, index) = (false, 7)
        } else {
            return nil
        }
        let authorityStart = index
        while index < bytes.count, bytes[index] != 0x2F, bytes[index] != 0x3F, bytes[index] != 0x23 { index += 1 }
        let authority = bytes[authorityStart..<index]
        guard !authority.isEmpty, !authority.contains(0x40) else { return nil }
        guard let (host, port) = Self.hostAndPort(authority, defaultPort: tls ? 443 : 80) else { return nil }
        var target = String(decoding: bytes[index...].prefix { $0 != 0x23 }, as: UTF8.self)
        if target.isEmpty || target.utf8.first == 0x3F { target = "/" + target }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return (UpstreamOrigin(tls: tls, host: host, port: port), target)
    }

    private static func hostAndPort(_ authority: ArraySlice<UInt8>, defaultPort: Int) -> (String, Int)? {
        var hostBytes = authority
        var portBytes: ArraySlice<UInt8> = []
        if authority.first == 0x5B {
            guard let close = authority.firstIndex(of: 0x5D) else { return nil }
            hostBytes = authority[(authority.startIndex + 1)..<close]
            let rest = authority[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == 0x3A else { return nil }
                portBytes = rest.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: 0x3A) {
            hostBytes = authority[..<colon]
            portBytes = authority[(colon + 1)...]
        }
        guard !hostBytes.isEmpty, hostBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x5B && $0 != 0x5D }) else { return nil }
        var port = defaultPort
        if !portBytes.isEmpty {
            guard portBytes.count <= 5, portBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = Int(String(decoding: portBytes, as: UTF8.self)), (1...65535).contains(value)
            else { return nil }
            port = value
        }
        return (String(decoding: hostBytes, as: UTF8.self).lowercased(), port)
    }

    private static func hasPrefix(_ bytes: [UInt8], _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return prefix.withUTF8Buffer { prefix in
            zip(bytes, prefix).allSatisfy { byte, expected in ((byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte) == expected }
        }
    }
}
