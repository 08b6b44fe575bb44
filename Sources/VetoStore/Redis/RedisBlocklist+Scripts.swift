import VetoRedis

/// The feed (KEYS.md, "The feed"): with a second key, KEYS[2] = `<prefix>feed`, a script appends what it
/// wrote to that stream in the same atomic step, so no write exists without its feed entry. Redis Cluster
/// cannot take both keys (two slots): there the script gets one key and ``RedisBlocklist`` appends to the
/// feed in a separate command, ordered so that a failure between the two can only over-deny.
///
/// Both scripts compare absolute expiries from the stored JSON (`expires_at`), not remaining TTLs:
/// a TTL shrinks with every millisecond and carries the clock jitter of whoever set it, so comparing
/// TTLs would let an identical revoke replace the entry. Scripts run atomically, so racing revokes
/// cannot interleave between the read and the write.
extension RedisBlocklist {
    /// `feed(value, ttl)`: appends a set of KEYS[1] to the feed, KEYS[2], when the script was given one
    /// and the feed exists (a replica or `veto blocklist watch` made it). The last ARGV is then the
    /// feed's length.
    static let feedFunction = """
        local function feed(value, ttl)
          if KEYS[2] and redis.call('TYPE', KEYS[2]).ok == 'stream' then
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[#ARGV], '*', 'op', 'set', 'key', KEYS[1],
              'ttl_ms', string.format('%d', ttl), 'value', value)
          end
        end
        """

    /// Stores a token entry unless the stored one lives at least as long: revoking again never shortens.
    /// KEYS[1] = entry key, KEYS[2] = feed (optional); ARGV[1] = JSON value; ARGV[2] = wanted PTTL (ms);
    /// ARGV[3] = wanted expires_at; ARGV[4] = feed length. Returns {stored value, PTTL in ms (-1: none)}.
    static let revokeTokenScript = RedisScript(
        """
        \(feedFunction)
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
              feed(current, want)
            end
            return {current, ttl}
          end
          if not stored and ttl >= want then
            return {current, ttl}
          end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', want)
        feed(ARGV[1], want)
        return {ARGV[1], want}
        """
    )

    /// Stores a cut-off (of any kind): the later cut-off wins, with its value, and the key keeps the longer
    /// of the two lifetimes.
    /// KEYS[1] = cut-off key, KEYS[2] = feed (optional); ARGV[1] = JSON value; ARGV[2] = wanted cut-off;
    /// ARGV[3] = wanted PTTL (ms); ARGV[4] = wanted expires_at; ARGV[5] = feed length.
    /// Returns {stored value, PTTL in ms (-1: none)}.
    static let cutoffScript = RedisScript(
        """
        \(feedFunction)
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
            feed(value, -1)
            return {value, -1}
          end
          if ttl > want then want = ttl end
        end
        redis.call('SET', KEYS[1], value, 'PX', want)
        feed(value, want)
        return {value, want}
        """
    )

    /// Deletes an entry and, with KEYS[2], appends the deletion to the feed. KEYS[1] = entry key,
    /// KEYS[2] = feed (optional); ARGV[1] = feed length. Returns 1 if the key existed, else 0.
    static let removeScript = RedisScript(
        """
        local removed = redis.call('DEL', KEYS[1])
        if removed == 1 and KEYS[2] and redis.call('TYPE', KEYS[2]).ok == 'stream' then
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'op', 'del', 'key', KEYS[1])
        end
        return removed
        """
    )

    /// Appends to the feed if it exists: Redis Cluster's separate feed entry. KEYS[1] = feed;
    /// ARGV[1] = feed length, then the entry's fields and values.
    static let appendToFeedScript = RedisScript(
        """
        if redis.call('TYPE', KEYS[1]).ok ~= 'stream' then return false end
        return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 2))
        """
    )

    /// Creates the feed, empty, unless it exists: from then on every write appends to it. KEYS[1] = feed.
    /// Returns 1 when it made it. (XADD then trims its own entry away: `MAXLEN 0`.)
    static let createFeedScript = RedisScript(
        """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('XADD', KEYS[1], 'MAXLEN', '0', '*', 'op', 'start')
        return 1
        """
    )
}
