import Crypto
import FairwayCore
import Foundation

/// The dashboard's sessions and CSRF tokens, signed with a key derived from the admin token — nothing is stored, and
/// rotating the admin token ends every session.
///
/// A session cookie is `<expiry>.<nonce>.<mac>`; its CSRF token is a MAC of the nonce, so a form from another site
/// (which cannot read the page) cannot carry it. Before login, a `fw_login` nonce cookie plays the same part.
struct DashboardSession: Sendable {
    static let cookieName = "fw_session"
    static let loginCookieName = "fw_login"
    static let lifetimeSeconds: Int64 = 12 * 3600

    private let key: SymmetricKey
    let adminToken: String

    init(adminToken: String) {
        self.adminToken = adminToken
        key = SymmetricKey(data: SHA256.hash(data: Array("fairway-dashboard-session|\(adminToken)".utf8)))
    }

    static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private func mac(_ text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// A new session cookie value, valid for ``lifetimeSeconds``.
    func issue(nowSeconds: Int64) -> String {
        let payload = "\(nowSeconds + Self.lifetimeSeconds).\(Self.nonce())"
        return payload + "." + mac("session|" + payload)
    }

    /// The session's nonce when the value is one this process signed and it has not expired.
    func verify(_ value: String, nowSeconds: Int64) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let expiry = Int64(parts[0]), expiry > nowSeconds, parts[1].count == 32,
              Self.constantTimeEqual(mac("session|\(parts[0]).\(parts[1])"), parts[2])
        else { return nil }
        return parts[1]
    }

    func csrfToken(session nonce: String) -> String { mac("csrf|" + nonce) }
    func loginToken(nonce: String) -> String { mac("login|" + nonce) }

    func checksToken(_ candidate: String) -> Bool { Self.constantTimeEqual(candidate, adminToken) }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (left, right) = (Array(a.utf8), Array(b.utf8))
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// `Set-Cookie` for a cookie of the dashboard: HttpOnly, SameSite=Strict, path `/ui`, Secure over TLS.
    static func cookie(_ name: String, _ value: String, maxAge: Int64, secure: Bool) -> String {
        "\(name)=\(value); Path=/ui; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (secure ? "; Secure" : "")
    }

    /// The value of cookie `name` in a `Cookie` header.
    static func cookieValue(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
        }
        return nil
    }
}

/// `application/x-www-form-urlencoded` bodies and query strings.
enum FormDecoding {
    static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { decode(String($0)) }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
