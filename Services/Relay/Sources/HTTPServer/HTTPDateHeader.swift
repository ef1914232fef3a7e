#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `date` header every answer carries (RFC 9110 §6.6.1), formatted once a second rather than per response.
final class HTTPDateHeader: Sendable {
    private let cached = Mutex<(second: Int, value: String)>((-1, ""))

    init() {}

    var current: String {
        let now = time(nil)
        return cached.withLock { cached in
            if cached.second != now {
                cached = (now, Self.format(now))
            }
            return cached.value
        }
    }

    /// `Tue, 01 Dec 2026 04:58:42 GMT`, in the C locale whatever the process's locale is.
    static func format(_ seconds: Int) -> String {
        var instant = time_t(seconds)
        var parts = tm()
        gmtime_r(&instant, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = days[Int(parts.tm_wday) % 7], month = months[Int(parts.tm_mon) % 12]
        return "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
