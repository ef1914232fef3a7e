import Crypto

/// A Lua script run with `EVALSHA`, loaded on demand.
///
/// Scripts are sent by their SHA-1 so the hot path carries a few bytes, not the source; when Redis answers `NOSCRIPT`
/// (restart, failover to a replica, `SCRIPT FLUSH`) the client loads the source and retries once.
public struct RedisScript: Sendable, Equatable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension RedisClient {
    /// Runs the script; an error raised by the script itself is thrown as `RedisError.server`.
    public func evaluate(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [any RedisArgument] = []
    ) async throws(RedisError) -> RESPValue {
        let command = RedisCommand("EVALSHA", head: [script.sha1, keys.count], texts: keys, arguments: arguments)
        do throws(RedisError) {
            return try await send(command)
        } catch .server(let message) where message.hasPrefix("NOSCRIPT") {
            try await send(RedisCommand("SCRIPT", "LOAD", script.source))
            return try await send(command)
        }
    }
}
