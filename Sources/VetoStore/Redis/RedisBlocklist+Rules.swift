import NIOCore
import VetoCore
import VetoRedis

/// The revocation rules the services on one Redis enforce, published at `<prefix>rules` (KEYS.md) so
/// that a writer with no configuration of its own, the CLI, never sizes an entry shorter than a
/// service would (security finding 15): `veto blocklist add` takes the larger of its own and the
/// published leeway and maximum token lifetime.
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
    public func publishRules(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let rules = configuration.rules
        return client.evaluate(Self.publishRulesScript, keys: [rulesKey],
                               arguments: [Array(String(rules.leeway).utf8), Array(String(rules.maxTokenLifetime).utf8)],
                               on: eventLoop, confirmReplication: true).map { _ in }
    }

    /// The published rules, or nil when no service has published any.
    public func publishedRules(on eventLoop: any EventLoop) -> EventLoopFuture<RevocationRules?> {
        client.send(RedisCommand("HMGET", [rulesKey, Array("leeway".utf8), Array("max_token_lifetime".utf8)]), on: eventLoop).map { value in
            guard case let .array(fields) = value, fields.count == 2,
                  let leeway = fields[0].string.flatMap(Double.init), let lifetime = fields[1].string.flatMap(Double.init),
                  leeway.isFinite, leeway >= 0, lifetime.isFinite, lifetime > 0
            else { return nil }
            return RevocationRules(leeway: leeway, maxTokenLifetime: lifetime)
        }
    }
}
