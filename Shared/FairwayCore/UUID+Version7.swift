import Foundation
import Synchronization

extension UUID {
    /// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Request ids sort by time, which keeps the
    /// `request_logs` primary-key index append-mostly.
    public static func version7(unixMilliseconds: UInt64? = nil) -> UUID {
        let milliseconds = unixMilliseconds ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let (high, low) = Version7Bits.next()
        let time = milliseconds << 16
        // 48 bits of time, version 7, 12 bits of `high`; variant 0b10, 62 bits of `low`.
        let first = (time & 0xFFFF_FFFF_FFFF_0000) | 0x7000 | (high & 0x0FFF)
        let second = 0x8000_0000_0000_0000 | (low & 0x3FFF_FFFF_FFFF_FFFF)
        func byte(_ word: UInt64, _ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: word >> (56 - 8 * index)) }
        return UUID(uuid: (
            byte(first, 0), byte(first, 1), byte(first, 2), byte(first, 3), byte(first, 4), byte(first, 5), byte(first, 6), byte(first, 7),
            byte(second, 0), byte(second, 1), byte(second, 2), byte(second, 3), byte(second, 4), byte(second, 5), byte(second, 6),
            byte(second, 7)
        ))
    }
}

/// The random bits of version 7 ids: SplitMix64 outputs over a per-process random seed and a counter (RFC 9562 §6.9
/// allows any source that keeps ids unique). Distinct within a process (SplitMix64's mix is a bijection, so distinct
/// counters give distinct words) and unpredictable across processes (the seed comes from the system generator), with no
/// system call per id: `SystemRandomNumberGenerator` read the kernel twice for every request.
enum Version7Bits {
    private static let seeds: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()

    private static let counter = Atomic<UInt64>(0)

    static func next() -> (high: UInt64, low: UInt64) {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let state = seeds.0 &+ count &* 0x9E37_79B9_7F4A_7C15
        return (mix(state ^ seeds.1), mix(state))
    }

    /// SplitMix64's output function.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
