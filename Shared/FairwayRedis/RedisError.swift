/// Why a Redis command did not produce a reply.
///
/// Callers branch on these: a `server` error is Redis saying no (wrong type, NOSCRIPT, BUSYGROUP) and retrying the same
/// command will not help, while `timeout`, `connectionClosed` and `connectionFailed` mean Redis may be unreachable and
/// degraded-mode logic (local admission, event spill) should take over.
public enum RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Redis answered with an error reply, e.g. `NOSCRIPT …` or `WRONGTYPE …`.
    case server(String)
    /// No reply within the command's timeout; the connection is closed because its reply order is now unknown.
    case timeout
    /// The connection closed before the reply arrived.
    case connectionClosed
    /// No connection could be made (server down, refused, handshake failed); carries the cause.
    case connectionFailed(String)
    /// The server sent bytes that are not valid RESP.
    case protocolError(String)
    /// A reply of an unexpected shape for the typed helper that asked.
    case unexpectedReply(String)
    /// The client was shut down.
    case clientClosed

    public var description: String {
        switch self {
        case .server(let message): "Redis error: \(message)"
        case .timeout: "Redis command timed out"
        case .connectionClosed: "Redis connection closed"
        case .connectionFailed(let cause): "cannot connect to Redis: \(cause)"
        case .protocolError(let message): "Redis protocol error: \(message)"
        case .unexpectedReply(let message): "unexpected Redis reply: \(message)"
        case .clientClosed: "Redis client is shut down"
        }
    }

    /// True for failures that say nothing about the command itself: the server could not be reached or went away.
    public var isConnectivity: Bool {
        switch self {
        case .timeout, .connectionClosed, .connectionFailed, .clientClosed: true
        case .server, .protocolError, .unexpectedReply: false
        }
    }
}
