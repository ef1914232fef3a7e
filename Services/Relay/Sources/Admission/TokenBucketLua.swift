/// The token-bucket arithmetic the Lua scripts share (admission's tenant and deployment buckets, governance's key
/// buckets): capacity one minute of tokens, refilled continuously, timed by Redis. Interpolated into a script after
/// its `now` (seconds, from `TIME`), so one definition serves every bucket.
enum TokenBucketLua {
    /// `refilled(key, limit)`: the tokens a bucket holds now. `settleBucket(key, limit, reserved, actual)`: gives back
    /// what was reserved, pays what was really used (no-op when the bucket has no limit).
    static let functions = """
        local function refilled(key, limit)
            local bucket = redis.call('HMGET', key, 'tokens', 'ts')
            local tokens = tonumber(bucket[1]) or limit
            local ts = tonumber(bucket[2]) or now
            return math.min(limit, tokens + math.max(0, now - ts) * limit / 60)
        end
        local function settleBucket(key, limit, reserved, actual)
            if limit <= 0 then return end
            local tokens = math.min(limit, refilled(key, limit) + math.min(reserved, limit) - actual)
            redis.call('HSET', key, 'tokens', tokens, 'ts', now)
            redis.call('EXPIRE', key, 120)
        end
        """
}
