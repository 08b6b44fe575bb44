import VetoRedis

/// Both scripts compare absolute expiries from the stored JSON (`expires_at`), not remaining TTLs:
/// a TTL shrinks with every millisecond and carries the clock jitter of whoever set it, so comparing
/// TTLs would let an identical revoke replace the entry. Scripts run atomically, so racing revokes
/// cannot interleave between the read and the write.
extension RedisBlocklist {
    /// Stores a token entry unless the stored one lives at least as long: revoking again never shortens.
    /// KEYS[1] = entry key; ARGV[1] = JSON value; ARGV[2] = wanted PTTL (ms); ARGV[3] = wanted expires_at.
    /// Returns {stored value, PTTL in ms (-1: none)}.
    static let revokeTokenScript = RedisScript(
        """
        local kind = redis.call('TYPE', KEYS[1]).ok
        if kind ~= 'none' and kind ~= 'string' then
          return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
        end
        local ttl = redis.call('PTTL', KEYS[1])
        local want = tonumber(ARGV[2])
        if ttl == -1 then
          return {redis.call('GET', KEYS[1]), -1}
        end
        if ttl >= 0 then
          local current = redis.call('GET', KEYS[1])
          local ok, decoded = pcall(cjson.decode, current)
          local stored = ok and type(decoded) == 'table' and tonumber(decoded['expires_at'])
          if stored and stored >= tonumber(ARGV[3]) then
            if ttl + 1000 < want then
              -- The value outlives the request but the key was shortened by hand: restore its life.
              redis.call('PEXPIRE', KEYS[1], want)
              ttl = want
            end
            return {current, ttl}
          end
          if not stored and ttl >= want then
            return {current, ttl}
          end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', want)
        return {ARGV[1], want}
        """
    )

    /// Stores a subject cut-off: the later cut-off wins, with its value, and the key keeps the longer
    /// of the two lifetimes.
    /// KEYS[1] = cut-off key; ARGV[1] = JSON value; ARGV[2] = wanted cut-off; ARGV[3] = wanted PTTL (ms);
    /// ARGV[4] = wanted expires_at. Returns {stored value, PTTL in ms (-1: none)}.
    static let revokeSubjectScript = RedisScript(
        """
        local kind = redis.call('TYPE', KEYS[1]).ok
        if kind ~= 'none' and kind ~= 'string' then
          return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
        end
        local ttl = redis.call('PTTL', KEYS[1])
        local want = tonumber(ARGV[3])
        local value = ARGV[1]
        if ttl ~= -2 then
          local current = redis.call('GET', KEYS[1])
          local ok, decoded = pcall(cjson.decode, current)
          if ok and type(decoded) == 'table' and tonumber(decoded['cutoff'])
             and tonumber(decoded['cutoff']) >= tonumber(ARGV[2]) then
            value = current
            local stored = tonumber(decoded['expires_at'])
            if ttl == -1 or (stored and stored >= tonumber(ARGV[4]) and ttl + 1000 >= want) then
              return {current, ttl}
            end
          end
          if ttl == -1 then
            redis.call('SET', KEYS[1], value, 'KEEPTTL')
            return {value, -1}
          end
          if ttl > want then want = ttl end
        end
        redis.call('SET', KEYS[1], value, 'PX', want)
        return {value, want}
        """
    )
}
