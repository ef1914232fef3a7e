import FairwayRedis

/// The Lua scripts of governance (DESIGN §13). Replies are tagged arrays of strings (`{'ok', …}`, `{'seed', …}`),
/// decoded by ``GateReply`` — never bare status numbers. Spend values travel as Redis's own integer text, exact.
enum GovernanceScripts {
    /// KEYS: tenant spend, key spend, key request bucket, key token bucket.
    /// ARGV: tenant limit, key limit (picodollars; -1 = none), key RPM, key TPM (0 = none), estimated tokens.
    /// Checks both budgets (a missing counter is reported, not assumed zero), then claims the key's buckets.
    /// Replies `{'ok', tenant spent, key spent}` ('' where no budget), `{'seed', 'tenant'|'key', …}`,
    /// `{'budget', 'tenant'|'key'}`, or `{'rpm'|'tpm', retry-after seconds}`.
    static let gate = RedisScript("""
        local owners = {'tenant', 'key'}
        local spent = {'', ''}
        local missing = {'seed'}
        for i = 1, 2 do
            if tonumber(ARGV[i]) >= 0 then
                local value = redis.call('GET', KEYS[i])
                if value then spent[i] = value else table.insert(missing, owners[i]) end
            end
        end
        if #missing > 1 then return missing end
        for i = 1, 2 do
            if spent[i] ~= '' and tonumber(spent[i]) >= tonumber(ARGV[i]) then return {'budget', owners[i]} end
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        \(TokenBucketLua.functions)
        local rpm = tonumber(ARGV[3])
        local tpm = tonumber(ARGV[4])
        local need = math.min(tonumber(ARGV[5]), tpm)
        local requests, tokens
        if rpm > 0 then
            requests = refilled(KEYS[3], rpm)
            if requests < 1 then return {'rpm', tostring(math.max(1, math.ceil((1 - requests) * 60 / rpm)))} end
        end
        if tpm > 0 then
            tokens = refilled(KEYS[4], tpm)
            if tokens < need then return {'tpm', tostring(math.max(1, math.ceil((need - tokens) * 60 / tpm)))} end
        end
        if rpm > 0 then
            redis.call('HSET', KEYS[3], 'tokens', requests - 1, 'ts', now)
            redis.call('EXPIRE', KEYS[3], 120)
        end
        if tpm > 0 then
            redis.call('HSET', KEYS[4], 'tokens', tokens - need, 'ts', now)
            redis.call('EXPIRE', KEYS[4], 120)
        end
        return {'ok', spent[1], spent[2]}
        """)

    /// KEYS: spend counter, its soft-alert marker. ARGV: spend, TTL ms, soft budget (-1 = none).
    /// Set-if-absent, so concurrent seeds on many relays never add up; a seed already past the soft budget marks it
    /// as reported (it was crossed before the counter went missing). Replies 1 when this call seeded.
    static let seed = RedisScript("""
        local set = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
        if not set then return 0 end
        local soft = tonumber(ARGV[3])
        if soft >= 0 and tonumber(ARGV[1]) >= soft then redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) end
        return 1
        """)

    /// KEYS: charged marker, tenant spend, key spend, tenant soft marker, key soft marker, key token bucket.
    /// ARGV: cost (picodollars), marker TTL s, tenant soft, key soft (-1 = none), tenant soft marker TTL ms, key soft
    /// marker TTL ms, key TPM (0 = none), reserved tokens, actual tokens, tenant budget (1/0), key budget (1/0).
    /// Runs once per request id (the marker); a counter that is missing is left alone — its seed from Postgres will
    /// include this request once the aggregator stored it. Replies `{'duplicate'}` or
    /// `{'ok', tenant spent, key spent, tenant crossed, key crossed}` ('' / '0' where not applicable).
    static let settle = RedisScript("""
        if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return {'duplicate'} end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        \(TokenBucketLua.functions)
        settleBucket(KEYS[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
        local cost = tonumber(ARGV[1])
        local reply = {'ok', '', '', '0', '0'}
        for i = 1, 2 do
            if ARGV[9 + i] == '1' then
                local before = redis.call('GET', KEYS[1 + i])
                if before then
                    if cost > 0 then
                        if tonumber(before) + cost >= 9.2e18 then
                            redis.call('SET', KEYS[1 + i], '9200000000000000000', 'KEEPTTL')
                        else
                            redis.call('INCRBY', KEYS[1 + i], ARGV[1])
                        end
                    end
                    local after = redis.call('GET', KEYS[1 + i])
                    reply[1 + i] = after
                    local soft = tonumber(ARGV[2 + i])
                    if soft >= 0 and tonumber(after) >= soft
                        and redis.call('SET', KEYS[3 + i], '1', 'NX', 'PX', ARGV[4 + i]) then
                        reply[3 + i] = '1'
                    end
                end
            end
        end
        return reply
        """)
}
