/// The parts of a `scheme://[user[:password]@]host[:port][/path][?query]` URL.
///
/// Parsed by hand rather than with Foundation so that passwords with reserved characters (percent-encoded) and IPv6
/// hosts behave the same on every platform, and so errors can say which part is wrong.
public struct ConnectionURL: Sendable, Equatable {
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    public var path: String
    public var query: [String: String]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingScheme
        case missingHost
        case invalidPort(String)
        case invalidEncoding

        public var description: String {
            switch self {
            case .missingScheme: "expected scheme://host"
            case .missingHost: "no host"
            case .invalidPort(let port): "port '\(port)' is not a number in 1...65535"
            case .invalidEncoding: "invalid percent-encoding"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        guard let schemeEnd = text.firstRange(of: "://") else { throw .missingScheme }
        scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard !scheme.isEmpty else { throw .missingScheme }
        var rest = Substring(text[schemeEnd.upperBound...])

        var queryItems: [String: String] = [:]
        if let questionMark = rest.firstIndex(of: "?") {
            for item in rest[rest.index(after: questionMark)...].split(separator: "&") {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = try Self.decode(parts[0])
                queryItems[key] = parts.count > 1 ? try Self.decode(parts[1]) : ""
            }
            rest = rest[..<questionMark]
        }
        query = queryItems

        var authority = rest
        path = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = String(rest[rest.index(after: slash)...])
        }

        user = nil
        password = nil
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let userPart = credentials[..<colon]
                user = userPart.isEmpty ? nil : try Self.decode(userPart)
                password = try Self.decode(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                user = try Self.decode(credentials)
            }
        }

        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .missingHost }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let afterClose = authority[authority.index(after: close)...]
            if afterClose.hasPrefix(":") { portPart = afterClose.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw .missingHost }
        host = String(hostPart)
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { throw .invalidPort(String(portPart)) }
            port = value
        } else {
            port = nil
        }
    }

    private static func decode(_ text: Substring) throws(ParseError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { throw .invalidEncoding }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
