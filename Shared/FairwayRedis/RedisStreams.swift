/// One entry of a Redis stream: its id and its field/value pairs.
public struct RedisStreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [String: String]

    public init(id: String, fields: [String: String]) {
        self.id = id
        self.fields = fields
    }

    init(reply: RESPValue) throws(RedisError) {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else {
            throw .unexpectedReply("stream entry \(reply)")
        }
        self.id = id
        var fields: [String: String] = [:]
        if let values = parts[1].array {
            var index = 0
            while index + 1 < values.count {
                if let name = values[index].string, let value = values[index + 1].string {
                    fields[name] = value
                }
                index += 2
            }
        }
        self.fields = fields
    }
}

/// What `XAUTOCLAIM` handed over.
public struct RedisAutoClaim: Sendable, Equatable {
    /// Where the next scan starts; `0-0` when the whole pending list was scanned.
    public var nextStart: String
    public var entries: [RedisStreamEntry]
    /// Ids that were pending but whose entries no longer exist (trimmed); they were removed from the pending list.
    public var deletedIDs: [String]
}

/// The stream commands the request-log pipeline needs.
extension RedisClient {
    /// `XADD key [MAXLEN ~ n] * field value …`; returns the new entry's id.
    @discardableResult
    public func xadd(_ key: String, fields: [(String, String)], approximateMaxLength: Int? = nil) async throws(RedisError) -> String {
        try await send(Self.xaddCommand(key, fields: fields, approximateMaxLength: approximateMaxLength)).string ?? ""
    }

    public static func xaddCommand(_ key: String, fields: [(String, String)], approximateMaxLength: Int? = nil) -> RedisCommand {
        var arguments: [String] = [key]
        arguments.reserveCapacity(fields.count * 2 + 5)
        if let approximateMaxLength {
            arguments += ["MAXLEN", "~", String(approximateMaxLength)]
        }
        arguments.append("*")
        for (name, value) in fields {
            arguments.append(name)
            arguments.append(value)
        }
        return RedisCommand("XADD", texts: arguments)
    }

    /// `XGROUP CREATE key group id MKSTREAM`; returns false when the group already exists.
    @discardableResult
    public func xgroupCreate(_ key: String, group: String, startID: String = "0") async throws(RedisError) -> Bool {
        do throws(RedisError) {
            try await send(RedisCommand("XGROUP", "CREATE", key, group, startID, "MKSTREAM"))
            return true
        } catch .server(let message) where message.hasPrefix("BUSYGROUP") {
            return false
        }
    }

    /// `XREADGROUP GROUP group consumer COUNT n [BLOCK ms] STREAMS key id`. With `id` `>` it returns new entries; with
    /// `0` the entries already delivered to this consumer and not yet acknowledged.
    public func xreadgroup(
        _ key: String,
        group: String,
        consumer: String,
        count: Int,
        block: Duration? = nil,
        id: String = ">"
    ) async throws(RedisError) -> [RedisStreamEntry] {
        var arguments: [any RedisArgument] = ["GROUP", group, consumer, "COUNT", count]
        var timeout: Duration?
        if let block {
            let milliseconds = max(1, Int(block.seconds * 1000))
            arguments += ["BLOCK", milliseconds]
            timeout = block + configuration.commandTimeout
        }
        arguments += ["STREAMS", key, id]
        let reply = try await send(RedisCommand("XREADGROUP", arguments), timeout: timeout)
        guard let streams = reply.array else { return [] }
        var entries: [RedisStreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let list = pair[1].array else { continue }
            for item in list {
                // An entry deleted while pending comes back as [id, nil]; it has nothing to process.
                if let parts = item.array, parts.count == 2, parts[1].isNull { continue }
                entries.append(try RedisStreamEntry(reply: item))
            }
        }
        return entries
    }

    @discardableResult
    public func xack(_ key: String, group: String, ids: [String]) async throws(RedisError) -> Int {
        guard !ids.isEmpty else { return 0 }
        return Int(try await send(RedisCommand("XACK", [key, group] + ids)).int ?? 0)
    }

    /// `XAUTOCLAIM key group consumer min-idle start COUNT n`: takes over entries another consumer left pending.
    public func xautoclaim(
        _ key: String,
        group: String,
        consumer: String,
        minIdle: Duration,
        start: String = "0-0",
        count: Int = 100
    ) async throws(RedisError) -> RedisAutoClaim {
        let reply = try await send(RedisCommand(
            "XAUTOCLAIM", key, group, consumer, max(0, Int(minIdle.seconds * 1000)), start, "COUNT", count
        ))
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else {
            throw .unexpectedReply("XAUTOCLAIM answered \(reply)")
        }
        var entries: [RedisStreamEntry] = []
        for item in parts[1].array ?? [] {
            if let pair = item.array, pair.count == 2, pair[1].isNull { continue }
            entries.append(try RedisStreamEntry(reply: item))
        }
        let deleted = parts.count > 2 ? (parts[2].array ?? []).compactMap(\.string) : []
        return RedisAutoClaim(nextStart: next, entries: entries, deletedIDs: deleted)
    }

    /// `XTRIM key MINID id`: drops entries older than `id`.
    @discardableResult
    public func xtrim(_ key: String, minID: String) async throws(RedisError) -> Int {
        Int(try await send(RedisCommand("XTRIM", key, "MINID", minID)).int ?? 0)
    }

    public func xlen(_ key: String) async throws(RedisError) -> Int {
        Int(try await send(RedisCommand("XLEN", key)).int ?? 0)
    }
}
