#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it; the socket is closed at once),
/// and that this process has not handed out before: the kernel may offer a just-closed port again before the first
/// taker binds it, and two of our servers on one port make a test talk to the wrong one.
public enum FreePort {
    private static let handedOut = Mutex<Set<Int>>([])

    public static func next() -> Int {
        while true {
            let port = candidate()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
    }

    private static func candidate() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed")
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        precondition(bound == 0, "bind() failed")
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
