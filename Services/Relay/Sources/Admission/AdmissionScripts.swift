import FairwayRedis

/// The Lua scripts of global admission (DESIGN §5.1). All time comes from Redis `TIME`, never from relay clocks.
///
/// The acquire script claims every limit of a request at once — deployment slot, tenant concurrency, TPM tokens — or
/// none; it also charges the estimated cost to the tenant's decayed usage. On a single Redis (or a Sentinel pair) that
/// is one script over keys of several hash tags; on Redis Cluster it would be split into reserve/claim/refund steps
/// (DESIGN §11).
enum AdmissionScripts {
    /// KEYS: dep slots, dep waiting, dep waiter expiry, tenant slots, tenant tokens, usage, epoch, active, dep request
    /// bucket, dep token bucket, dep waiter tenants, dep contention notice.
    /// ARGV: lease, waiter, share (0 = not known yet: ranks first), capacity (0 = unlimited), tenant cap (0 = unlimited), lease TTL ms, waiter TTL ms,
    /// max queue, tenant, estimated tokens, TPM limit (0 = unlimited), cost, half-life s, register (1/0), wake channel,
    /// deployment, deployment RPM limit (0 = none), deployment TPM limit (0 = none), contention channel, notice
    /// interval ms. The lease id and the waiter id are the same string, so a slot handed over by a release is found.
    /// A request left waiting for the deployment's capacity publishes the deployment on the contention channel (at
    /// most once per notice interval), so relays stop keeping idle slots (``SlotPoolState``).
    /// Replies with a tag (decoded by ``AcquireReply``): `{'admitted', in flight, charged increment, its epoch}`,
    /// `{'wait'}`, `{'queue_full'}`, `{'quota', retry-after s}` (the tenant's TPM quota) or `{'headroom', retry-after s}`
    /// (the deployment's own RPM/TPM limits).
    static let acquire = RedisScript("""
        local t = redis.call('TIME')
        local nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local now = nowms / 1000
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowms)
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', nowms)
        local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', nowms)
        for _, w in ipairs(stale) do
            redis.call('ZREM', KEYS[2], w)
            redis.call('ZREM', KEYS[3], w)
            redis.call('HDEL', KEYS[11], w)
        end
        -- Whether this waiter is queued (its entries in the waiting set, expiry set and tenant map come and go together).
        local queued = redis.call('ZSCORE', KEYS[2], ARGV[2]) ~= false
        local capacity = tonumber(ARGV[4])
        local tenantCap = tonumber(ARGV[5])
        local halfLife = tonumber(ARGV[13])
        local inflight = redis.call('ZCARD', KEYS[1])
        -- Priority from the usage as it is now: U / share, lower first.
        local epoch = tonumber(redis.call('GET', KEYS[7]) or '0')
        local share = tonumber(ARGV[3])
        local priority = 0
        if epoch > 0 and share > 0 then
            local stored = tonumber(redis.call('HGET', KEYS[6], ARGV[9]) or '0')
            priority = stored / (2 ^ ((now - epoch) / halfLife)) / share
        end
        priority = string.format('%.17g', priority)
        local function leaveQueue()
            if not queued then return end
            redis.call('ZREM', KEYS[2], ARGV[2])
            redis.call('ZREM', KEYS[3], ARGV[2])
            redis.call('HDEL', KEYS[11], ARGV[2])
            queued = false
        end
        -- A release may already have handed this waiter a slot (its id is then in the slot set).
        local granted = redis.call('ZSCORE', KEYS[1], ARGV[2]) ~= false
        if not granted and tenantCap > 0 and redis.call('ZCARD', KEYS[4]) >= tenantCap then
            -- At its own cap: wait without holding a place others could use.
            leaveQueue()
            return {'wait'}
        end
        local admit = granted
        if granted then
            -- nothing more to check: the slot is ours
        elseif capacity == 0 then
            admit = true
        elseif capacity - inflight > 0 then
            local ahead
            if queued then
                redis.call('ZADD', KEYS[2], priority, ARGV[2])
                ahead = redis.call('ZRANK', KEYS[2], ARGV[2])
            else
                ahead = redis.call('ZCOUNT', KEYS[2], '-inf', priority)
            end
            admit = ahead < capacity - inflight
        end
        if admit then
            -- Every bucket is checked before any is charged: all or nothing.
            \(TokenBucketLua.functions)
            local function refuse(tag, wait)
                leaveQueue()
                if granted then
                    redis.call('ZREM', KEYS[1], ARGV[2])
                    redis.call('ZREM', KEYS[4], ARGV[2])
                    redis.call('PUBLISH', ARGV[15], ARGV[16])
                end
                return {tag, tostring(math.max(1, math.ceil(wait)))}
            end
            local estimate = tonumber(ARGV[10])
            local limit = tonumber(ARGV[11])
            local rpm = tonumber(ARGV[17])
            local tpm = tonumber(ARGV[18])
            local tenantTokens, rpmTokens, tpmTokens
            if limit > 0 then
                tenantTokens = refilled(KEYS[5], limit)
                local need = math.min(estimate, limit)
                if tenantTokens < need then return refuse('quota', (need - tenantTokens) * 60 / limit) end
            end
            if rpm > 0 then
                rpmTokens = refilled(KEYS[9], rpm)
                if rpmTokens < 1 then return refuse('headroom', (1 - rpmTokens) * 60 / rpm) end
            end
            if tpm > 0 then
                tpmTokens = refilled(KEYS[10], tpm)
                local need = math.min(estimate, tpm)
                if tpmTokens < need then return refuse('headroom', (need - tpmTokens) * 60 / tpm) end
            end
            if limit > 0 then
                redis.call('HSET', KEYS[5], 'tokens', tenantTokens - math.min(estimate, limit), 'ts', now)
                redis.call('EXPIRE', KEYS[5], 120)
            end
            if rpm > 0 then
                redis.call('HSET', KEYS[9], 'tokens', rpmTokens - 1, 'ts', now)
                redis.call('EXPIRE', KEYS[9], 120)
            end
            if tpm > 0 then
                redis.call('HSET', KEYS[10], 'tokens', tpmTokens - math.min(estimate, tpm), 'ts', now)
                redis.call('EXPIRE', KEYS[10], 120)
            end
            local expiry = nowms + tonumber(ARGV[6])
            redis.call('ZADD', KEYS[1], expiry, ARGV[1])
            if tenantCap > 0 then redis.call('ZADD', KEYS[4], expiry, ARGV[1]) end
            if granted then inflight = inflight - 1 end
            leaveQueue()
            if epoch == 0 then
                epoch = now
                redis.call('SET', KEYS[7], tostring(now))
            end
            if (now - epoch) / halfLife >= 32 then
                local factor = 2 ^ ((now - epoch) / halfLife)
                local all = redis.call('HGETALL', KEYS[6])
                for i = 1, #all, 2 do
                    redis.call('HSET', KEYS[6], all[i], tostring(tonumber(all[i + 1]) / factor))
                end
                epoch = now
                redis.call('SET', KEYS[7], tostring(now))
            end
            local charged = tonumber(ARGV[12]) * 2 ^ ((now - epoch) / halfLife)
            if charged > 0 then
                redis.call('HINCRBYFLOAT', KEYS[6], ARGV[9], string.format('%.17g', charged))
            end
            redis.call('ZADD', KEYS[8], now, ARGV[9])
            -- What was added and under which epoch, so the release can take exactly that back.
            return {'admitted', tostring(inflight + 1), string.format('%.17g', charged), tostring(epoch)}
        end
        if ARGV[14] == '1' then
            if not queued and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[8]) then
                return {'queue_full'}
            end
            redis.call('ZADD', KEYS[2], priority, ARGV[2])
            redis.call('ZADD', KEYS[3], nowms + tonumber(ARGV[7]), ARGV[2])
            if tenantCap > 0 then redis.call('HSET', KEYS[11], ARGV[2], ARGV[5] .. '|' .. KEYS[4]) end
            redis.call('ZADD', KEYS[8], now, ARGV[9])
        end
        if redis.call('SET', KEYS[12], '1', 'NX', 'PX', ARGV[20]) then redis.call('PUBLISH', ARGV[19], ARGV[16]) end
        return {'wait'}
        """)

    /// KEYS: dep slots, tenant slots, tenant tokens, usage, epoch, dep waiting, dep waiter expiry, dep token bucket,
    /// dep waiter tenants.
    /// ARGV: lease, tenant, reserved tokens, actual tokens, TPM limit, usage increment charged at admission, half-life s,
    /// wake channel, deployment, capacity (0 = unlimited), claim TTL ms, deployment TPM limit (0 = none), epoch of the
    /// charge, actual cost.
    /// Idempotent: only the call that removes the lease settles anything. The freed slot is handed straight to the best
    /// waiters whose tenants are below their own cap (their ids move into the slot set, and into the tenant's), so
    /// capacity is never idle while anyone waits; the wake-up tells them. A handed-over slot is only a claim until its
    /// waiter confirms it with the acquire script: it expires after the claim TTL, so a crashed relay's waiter cannot
    /// hold it for a whole lease. A tenant's slot set is named in the waiter's entry, not in KEYS: fine on one Redis,
    /// to be split for Cluster with the rest of admission (DESIGN §11).
    /// Returns 1 when it settled.
    static let release = RedisScript("""
        local removed = redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        if removed == 0 then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        -- A token bucket gets back what was reserved and pays what was really used.
        \(TokenBucketLua.functions)
        settleBucket(KEYS[3], tonumber(ARGV[5]), tonumber(ARGV[3]), tonumber(ARGV[4]))
        settleBucket(KEYS[8], tonumber(ARGV[12]), tonumber(ARGV[3]), tonumber(ARGV[4]))
        -- Replace the estimate charged at admission (taken back exactly, even across a re-base) by the real cost.
        local halfLife = tonumber(ARGV[7])
        local epoch = tonumber(redis.call('GET', KEYS[5]) or tostring(now))
        local charged = tonumber(ARGV[6]) / 2 ^ ((epoch - tonumber(ARGV[13])) / halfLife)
        local delta = tonumber(ARGV[14]) * 2 ^ ((now - epoch) / halfLife) - charged
        if delta ~= 0 then
            redis.call('HINCRBYFLOAT', KEYS[4], ARGV[2], string.format('%.17g', delta))
        end
        local nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local stale = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', nowms)
        for _, w in ipairs(stale) do
            redis.call('ZREM', KEYS[6], w)
            redis.call('ZREM', KEYS[7], w)
            redis.call('HDEL', KEYS[9], w)
        end
        if redis.call('ZCARD', KEYS[6]) > 0 then
            local capacity = tonumber(ARGV[10])
            if capacity > 0 then
                redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowms)
                local free = capacity - redis.call('ZCARD', KEYS[1])
                if free > 0 then
                    -- Look a bounded way past the free slots for waiters whose tenant is at its cap.
                    local best = redis.call('ZRANGE', KEYS[6], 0, free + 63)
                    local claim = nowms + tonumber(ARGV[11])
                    for _, w in ipairs(best) do
                        if free == 0 then break end
                        local eligible = true
                        local info = redis.call('HGET', KEYS[9], w)
                        local tenantKey
                        if info then
                            local cap, key = string.match(info, '^(%d+)|(.+)$')
                            if cap and tonumber(cap) > 0 then
                                tenantKey = key
                                redis.call('ZREMRANGEBYSCORE', key, '-inf', nowms)
                                eligible = redis.call('ZCARD', key) < tonumber(cap)
                            end
                        end
                        if eligible then
                            redis.call('ZADD', KEYS[1], claim, w)
                            if tenantKey then redis.call('ZADD', tenantKey, claim, w) end
                            redis.call('ZREM', KEYS[6], w)
                            redis.call('ZREM', KEYS[7], w)
                            redis.call('HDEL', KEYS[9], w)
                            free = free - 1
                        end
                    end
                end
            end
            redis.call('PUBLISH', ARGV[8], ARGV[9])
        end
        return 1
        """)

    /// KEYS: usage, epoch, active. ARGV: half-life s, then per row: tenant, cost, estimate to take back, the epoch it
    /// was charged under (0 = none). Settles what requests on pooled slots used (``UsageLedger``): each cost is added
    /// as of now, each estimate taken back exactly as the release script would, and every tenant marked active.
    static let settleUsage = RedisScript("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local halfLife = tonumber(ARGV[1])
        local epoch = tonumber(redis.call('GET', KEYS[2]) or '0')
        if epoch == 0 then
            epoch = now
            redis.call('SET', KEYS[2], tostring(now))
        end
        for i = 2, #ARGV - 3, 4 do
            local delta = tonumber(ARGV[i + 1]) * 2 ^ ((now - epoch) / halfLife)
            local chargedEpoch = tonumber(ARGV[i + 3])
            if chargedEpoch > 0 then
                delta = delta - tonumber(ARGV[i + 2]) / 2 ^ ((epoch - chargedEpoch) / halfLife)
            end
            if delta ~= 0 then
                redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], string.format('%.17g', delta))
            end
            redis.call('ZADD', KEYS[3], now, ARGV[i])
        end
        return 1
        """)

    /// KEYS: dep slots, tenant slots. ARGV: lease, TTL ms. Extends a lease that still exists.
    static let renew = RedisScript("""
        local t = redis.call('TIME')
        local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
        redis.call('ZADD', KEYS[2], 'XX', expiry, ARGV[1])
        return redis.call('ZADD', KEYS[1], 'XX', 'CH', expiry, ARGV[1])
        """)

    /// KEYS: dep waiting, dep waiter expiry, dep slots, tenant slots, dep waiter tenants. ARGV: waiter, wake channel,
    /// deployment. Leaves the queue (timeout, disconnect), giving back a slot a release handed over in the meantime.
    static let leave = RedisScript("""
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[5], ARGV[1])
        redis.call('ZREM', KEYS[4], ARGV[1])
        if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
        return 1
        """)
}
