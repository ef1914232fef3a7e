import Foundation

extension UUID {
    /// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Request ids sort by time, which keeps the
    /// `request_logs` primary-key index append-mostly.
    public static func version7(unixMilliseconds: UInt64? = nil) -> UUID {
        let milliseconds = unixMilliseconds ?? UInt64(Date().timeIntervalSince1970 * 1000)
        var generator = SystemRandomNumberGenerator()
        let random = (generator.next() as UInt64, generator.next() as UInt64)
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        for index in 6..<16 {
            let source = index < 14 ? random.0 : random.1
            bytes[index] = UInt8(truncatingIfNeeded: source >> (8 * ((index - 6) % 8)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
