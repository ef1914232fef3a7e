#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a process names itself when no name is configured: `hostname-pid`, unique per replica and per restart.
public enum ProcessIdentity {
    public static func hostnameAndPID(fallback: String) -> String {
        "\(hostname(fallback: fallback))-\(getpid())"
    }

    /// The host's name: stable across restarts (a pod's name in Kubernetes), for files a restart must find again.
    public static func hostname(fallback: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : fallback
        return host.isEmpty ? fallback : host
    }
}
