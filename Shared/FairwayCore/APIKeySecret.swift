import Crypto

/// An API-key secret: `fw-` followed by 40 base62 characters from the system CSPRNG (≈238 bits).
///
/// Only the SHA-256 of the whole secret is stored, plus the first 12 characters for display; the secret itself is shown
/// once, when it is created or rotated. Management makes them, the relay hashes what clients present.
public struct APIKeySecret: Sendable, Equatable {
    public static let prefix = "fw-"
    public static let randomLength = 40
    public static let displayPrefixLength = 12
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    public let value: String

    public init(value: String) {
        self.value = value
    }

    /// A new random secret. Bytes ≥ 248 are rejected so each character is uniform over 62 symbols.
    public static func generate() -> APIKeySecret {
        var generator = SystemRandomNumberGenerator()
        var characters: [UInt8] = []
        characters.reserveCapacity(randomLength)
        while characters.count < randomLength {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { characters.append(alphabet[Int(byte % 62)]) }
        }
        return APIKeySecret(value: prefix + String(decoding: characters, as: UTF8.self))
    }

    /// Lowercase hex SHA-256 of the whole secret: what `api_keys.key_hash` holds.
    public var hash: String { Self.hash(value) }

    /// The first 12 characters (`fw-` + 9), safe to show in lists.
    public var displayPrefix: String { String(value.prefix(Self.displayPrefixLength)) }

    /// Whether the text has the shape of a Fairway secret (cheap check before hashing and lookup).
    public static func looksValid(_ text: String) -> Bool {
        guard text.utf8.count == prefix.utf8.count + randomLength, text.hasPrefix(prefix) else { return false }
        // The alphabet is exactly ASCII letters and digits: ranges, not a search of it per character.
        return text.utf8.dropFirst(prefix.utf8.count).allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    public static func hash(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).hexString
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Comparison of secrets whose time does not depend on where they differ.
public enum ConstantTime {
    public static func equals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
