import NIOCore
import VetoCore
import VetoRedis

/// The revocation rules the services on one Redis enforce, published at `<prefix>rules` (KEYS.md).
/// Every write (a service's or the CLI's) sizes its entry with the larger of its own and the
/// published leeway and maximum token lifetime, so no writer with shorter settings (`veto blocklist
/// add`, an instance configured differently) makes an entry end while another instance still
/// accepts the token (security finding 15).
extension RedisBlocklist {
    /// HSET of the larger of the stored and the given values: several services with different
    /// settings leave the most conservative ones. KEYS[1] = rules key; ARGV = leeway, max lifetime.
    static let publishRulesScript = RedisScript(
        """
        local kind = redis.call('TYPE', KEYS[1]).ok
        if kind ~= 'none' and kind ~= 'hash' then
          return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
        end
        local stored = redis.call('HMGET', KEYS[1], 'leeway', 'max_token_lifetime')
        local leeway = math.max(tonumber(ARGV[1]), tonumber(stored[1]) or 0)
        local lifetime = math.max(tonumber(ARGV[2]), tonumber(stored[2]) or 0)
        redis.call('HSET', KEYS[1], 'leeway', tostring(leeway), 'max_token_lifetime', tostring(lifetime))
        return {tostring(leeway), tostring(lifetime)}
        """
    )

    var rulesKey: [UInt8] { keys.prefix + Array("rules".utf8) }

    /// Publishes this service's rules (merged with what is there).
    package func publishRules(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let rules = configuration.rules
        return client.evaluate(
            Self.publishRulesScript, keys: [rulesKey],
            arguments: [Array(String(rules.leeway).utf8), Array(String(rules.maxTokenLifetime).utf8)],
            on: eventLoop, confirmReplication: true
        ).map { _ in }
    }

    /// The larger of this store's rules and the published ones: what a write sizes its entry with.
    /// One HMGET before each write (writes are rare); if it fails, the write fails (fail closed).
    func effectiveRules(on eventLoop: any EventLoop) -> EventLoopFuture<RevocationRules> {
        let own = configuration.rules
        return publishedRules(on: eventLoop).map { published in
            guard let published else { return own }
            return RevocationRules(leeway: max(own.leeway, published.leeway), maxTokenLifetime: max(own.maxTokenLifetime, published.maxTokenLifetime))
        }
    }

    /// The published rules, or nil when no service has published any.
    package func publishedRules(on eventLoop: any EventLoop) -> EventLoopFuture<RevocationRules?> {
        client.send(RedisCommand("HMGET", [rulesKey, Array("leeway".utf8), Array("max_token_lifetime".utf8)]), on: eventLoop).map { value in
            guard case let .array(fields) = value, fields.count == 2,
                let leeway = fields[0].string.flatMap(Double.init), let lifetime = fields[1].string.flatMap(Double.init),
                case let rules = RevocationRules(leeway: leeway, maxTokenLifetime: lifetime), rules.isWithinBounds
            else { return nil }  // garbage, or values no service accepts: this writer's own rules stand
            return rules
        }
    }
}

extension RedisBlocklist {
    /// Masters whose `maxmemory-policy` may evict keys that have a TTL, which every entry has: under
    /// memory pressure Redis would drop acknowledged revocations (users can cause that pressure by
    /// logging out many tokens). Read from `INFO memory`, which managed Redis offerings allow even
    /// where CONFIG is disabled. Every policy but `noeviction` may evict keys with a TTL (`volatile-*`
    /// picks only those). Empty when every master runs `noeviction`.
    package func evictingMasters(on eventLoop: any EventLoop) async throws -> [(endpoint: String, policy: String)] {
        var evicting: [(String, String)] = []
        for master in try await client.masters(on: eventLoop).get() {
            let info = try await master.send(RedisCommand("INFO", ["memory"]), on: eventLoop).get()
            guard let text = info.string else { continue }
            for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("maxmemory_policy:") {
                let policy = String(line.dropFirst("maxmemory_policy:".count).filter { !$0.isWhitespace })
                if policy != "noeviction" { evicting.append(("\(master.endpoint)", policy)) }
            }
        }
        return evicting
    }
}
