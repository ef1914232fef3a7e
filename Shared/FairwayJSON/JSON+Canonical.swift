extension JSON {
    /// Compact text with every object's members sorted by key (by UTF-8 bytes) and, for a key given twice, only the
    /// last: two bodies that mean the same to a JSON reader give the same bytes (a cache key, a signature). Numbers keep
    /// their spelling (`1` and `1.0` differ), as an upstream may read them differently too.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeCanonical(into: &out)
        return out
    }

    func writeCanonical(into out: inout [UInt8]) {
        switch self {
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                element.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            var last: [String: JSON] = [:]
            for member in object.members { last[member.key] = member.value }
            out.append(UInt8(ascii: "{"))
            for (position, key) in last.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                last[key]?.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        default:
            write(into: &out)
        }
    }
}
