/// Typed forms of the plain commands the services use.
extension RedisClient {
    public func ping() async throws(RedisError) {
        let reply = try await send(RedisCommand("PING"))
        guard reply.string == "PONG" else { throw .unexpectedReply("PING answered \(reply)") }
    }

    public func get(_ key: String) async throws(RedisError) -> String? {
        try await send(RedisCommand("GET", key)).string
    }

    /// `SET key value [PX ttl]`.
    public func set(_ key: String, _ value: any RedisArgument, ttl: Duration? = nil) async throws(RedisError) {
        var arguments: [any RedisArgument] = [key, value]
        if let ttl {
            arguments += ["PX", max(1, Int(ttl.seconds * 1000))]
        }
        try await send(RedisCommand("SET", arguments))
    }

    @discardableResult
    public func delete(_ keys: [String]) async throws(RedisError) -> Int {
        guard !keys.isEmpty else { return 0 }
        return Int(try await send(RedisCommand("DEL", keys)).int ?? 0)
    }

    /// Publishes and returns how many subscribers received the message.
    @discardableResult
    public func publish(_ message: String, to channel: String) async throws(RedisError) -> Int {
        Int(try await send(RedisCommand("PUBLISH", channel, message)).int ?? 0)
    }

    /// Redis server time (`TIME`) in microseconds since the epoch: the clock every relay agrees on.
    public func serverTime() async throws(RedisError) -> Int64 {
        let reply = try await send(RedisCommand("TIME"))
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].int, let micros = parts[1].int else {
            throw .unexpectedReply("TIME answered \(reply)")
        }
        return seconds * 1_000_000 + micros
    }
}
