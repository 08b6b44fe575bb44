import Logging
import NIOCore
import VetoCore
import VetoRedis

/// The blocklist in Redis (key layout in KEYS.md). Shared by every Veto instance that points at the
/// same Redis, so a logout on one is seen by all. Needs Redis 6 or later (ACL, SET KEEPTTL).
package final class RedisBlocklist: Blocklist {
    package let configuration: BlocklistConfiguration
    package let client: RedisClient
    private let ownsClient: Bool
    let keys: BlocklistKeys
    let validator: RequestValidator

    package var eventLoopGroup: any EventLoopGroup { client.eventLoopGroup }

    /// Uses `client` and leaves closing it to the caller.
    package init(client: RedisClient, configuration: BlocklistConfiguration = BlocklistConfiguration()) {
        self.client = client
        self.ownsClient = false
        self.configuration = configuration
        self.keys = BlocklistKeys(prefix: configuration.keyPrefix)
        self.validator = RequestValidator(configuration: configuration)
    }

    /// Opens its own client (one connection per loop of NIO's shared group), closed by ``close()``.
    package init(
        redis: RedisConfiguration,
        configuration: BlocklistConfiguration = BlocklistConfiguration(),
        logger: Logger = Logger(label: "veto.redis")
    ) {
        self.client = RedisClient(configuration: redis, logger: logger)
        self.ownsClient = true
        self.configuration = configuration
        self.keys = BlocklistKeys(prefix: configuration.keyPrefix)
        self.validator = RequestValidator(configuration: configuration)
    }

    /// Parses `url` (`redis://[user:pass@]host:port/db` or `unix:///path?db=N`) and opens its own client.
    /// A bad URL is `invalid_argument`, with a message that never repeats the password.
    package convenience init(
        url: String,
        configuration: BlocklistConfiguration = BlocklistConfiguration(),
        logger: Logger = Logger(label: "veto.redis")
    ) throws(StoreError) {
        let redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: url)
        } catch {
            throw StoreError(.invalidArgument, error.message)
        }
        self.init(redis: redis, configuration: configuration, logger: logger)
    }

    // MARK: Hot path

    package func status(
        _ query: RevocationQuery, on eventLoop: any EventLoop, then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void
    ) {
        guard validator.isStorable(query.issuer) else {
            then(.success(.notRevoked))  // no entry of this issuer can have been stored
            return
        }
        var keys = [[UInt8]]()
        var kinds = [CutoffKind?]()
        if let jti = query.jti, !jti.isEmpty, validator.isStorable(jti) {
            keys.append(self.keys.token(issuer: query.issuer, jti: jti))
            kinds.append(nil)
        }
        query.values.forEach { kind, value in
            guard (kind == .issuer || !value.isEmpty) && validator.isStorable(value) else { return }
            keys.append(self.keys.cutoff(issuer: query.issuer, kind: kind, value: value))
            kinds.append(kind)
        }
        // One GET per key written back to back: one round trip, and unlike MGET a key of the wrong type is
        // an error (WRONGTYPE), not a silent nil that would read as "not revoked".
        // `read: true`: with Sentinel and `read_from: replica` these may go to a replica (stale by the
        // replication lag; see README, Production).
        // One callback for all replies, no future: on the hot path a future costs more than decoding a reply.
        let issuedAt = query.issuedAt
        let (lookedUp, lookedUpKinds) = (keys, kinds)
        client.send(keys.map { RedisCommand("GET", [$0]) }, on: eventLoop, read: true) { replies in
            then(Result { try Self.interpret(replies, keys: lookedUp, kinds: lookedUpKinds, issuedAt: issuedAt) })
        }
    }

    /// The status from the replies to the GETs of `keys` (a token entry where `kinds` has nil).
    ///
    /// A refusal found in any reply wins over a failed or unreadable one: the token is refused either way,
    /// and refusing is certain. Otherwise any failure or unreadable cut-off fails the check (closed).
    private static func interpret(
        _ results: [Result<RedisValue, any Error>], keys: [[UInt8]], kinds: [CutoffKind?], issuedAt: Double?
    ) throws -> RevocationStatus {
        var problem: StoreError?
        for (index, result) in results.enumerated() {
            switch result {
            case .success(.null):
                continue
            case .success(let value):
                guard kinds[index] != nil else { return .tokenRevoked(value.bytes.flatMap(EntryJSON.entry)) }
                guard let cutoff = value.bytes.flatMap(EntryJSON.cutoff) else {
                    problem = problem ?? StoreError(.corruptEntry, "unreadable cut-off at key \(BlocklistKeys.display(keys[index]))")
                    continue
                }
                if RevocationRules.cutoffRejects(issuedAt: issuedAt, cutoff: cutoff.cutoff) { return .cutOff(cutoff) }
            case .failure(let error):
                problem = problem ?? StoreError(redis: error, key: keys[index])
            }
        }
        if let problem { throw problem }
        return .notRevoked
    }

    // MARK: Writes

    /// Bad input is refused before the rules are read, so it is `invalid_argument` even while Redis is down.
    package func revoke(_ request: RevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry> {
        do { _ = try validator.entry(for: request, now: WallClock.now()) } catch { return eventLoop.makeFailedFuture(error) }
        return effectiveRules(on: eventLoop).flatMap { rules in self.revoke(request, rules: rules, on: eventLoop) }
    }

    private func revoke(_ request: RevocationRequest, rules: RevocationRules, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry> {
        let now = WallClock.now()
        let candidate: RevocationEntry
        do { candidate = try validator.entry(for: request, now: now, rules: rules) } catch { return eventLoop.makeFailedFuture(error) }
        let key = keys.token(issuer: request.issuer, jti: request.jti)
        let ttl = RevocationRules.timeToLive(until: candidate.entryExpiresAt, now: now)
        let value = EntryJSON.encode(candidate)
        return writeWithFeed(
            Self.revokeTokenScript, key: key, value: value, ttl: ttl,
            arguments: [value, Array(String(ttl).utf8), Array(EntryJSON.numberText(candidate.entryExpiresAt).utf8)], on: eventLoop
        )
        .flatMapErrorThrowing { throw StoreError(redis: $0, key: key) }
        .flatMapThrowing { reply in
            guard let stored = Self.storedValue(reply), let entry = EntryJSON.entry(stored) else {
                throw StoreError(.corruptEntry, "unreadable blocklist entry at key \(BlocklistKeys.display(key))")
            }
            return entry
        }
    }

    package func cutoff(_ request: CutoffRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff> {
        do { _ = try validator.cutoff(for: request, now: WallClock.now()) } catch { return eventLoop.makeFailedFuture(error) }
        return effectiveRules(on: eventLoop).flatMap { rules in self.cutoff(request, rules: rules, on: eventLoop) }
    }

    private func cutoff(_ request: CutoffRequest, rules: RevocationRules, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff> {
        let now = WallClock.now()
        let candidate: Cutoff
        do { candidate = try validator.cutoff(for: request, now: now, rules: rules) } catch { return eventLoop.makeFailedFuture(error) }
        let key = keys.cutoff(issuer: request.issuer, kind: request.kind, value: request.value)
        let ttl = RevocationRules.timeToLive(until: candidate.entryExpiresAt, now: now)
        let value = EntryJSON.encode(candidate)
        return writeWithFeed(
            Self.cutoffScript, key: key, value: value, ttl: ttl,
            arguments: [
                value, Array(EntryJSON.numberText(candidate.cutoff).utf8), Array(String(ttl).utf8),
                Array(EntryJSON.numberText(candidate.entryExpiresAt).utf8)
            ],
            on: eventLoop
        )
        .flatMapErrorThrowing { throw StoreError(redis: $0, key: key) }
        .flatMapThrowing { reply in
            guard let stored = Self.storedValue(reply), var cutoff = EntryJSON.cutoff(stored) else {
                throw StoreError(.corruptEntry, "unreadable cut-off at key \(BlocklistKeys.display(key))")
            }
            // The script keeps the later cut-off's value but the longer of the two lifetimes.
            cutoff.entryExpiresAt = max(cutoff.entryExpiresAt, candidate.entryExpiresAt)
            return cutoff
        }
    }

    package func remove(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        delete(keys.token(issuer: issuer, jti: jti), on: eventLoop)
    }

    package func removeCutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        delete(keys.cutoff(issuer: issuer, kind: kind, value: value), on: eventLoop)
    }

    // MARK: Reads for operators

    package func entry(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry?> {
        let key = keys.token(issuer: issuer, jti: jti)
        return read(key, on: eventLoop).flatMapThrowing { stored in
            guard let stored else { return nil }
            guard var entry = EntryJSON.entry(stored.value) else {
                throw StoreError(.corruptEntry, "unreadable blocklist entry at key \(BlocklistKeys.display(key))")
            }
            entry.entryExpiresAt = Self.expiry(stored: entry.entryExpiresAt, fromTTL: stored.expiry)
            return entry
        }
    }

    package func cutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff?> {
        let key = keys.cutoff(issuer: issuer, kind: kind, value: value)
        return read(key, on: eventLoop).flatMapThrowing { stored in
            guard let stored else { return nil }
            guard var cutoff = EntryJSON.cutoff(stored.value) else {
                throw StoreError(.corruptEntry, "unreadable cut-off at key \(BlocklistKeys.display(key))")
            }
            // The key names the rule; the value only describes it.
            (cutoff.issuer, cutoff.kind, cutoff.value) = (issuer, kind, value)
            cutoff.entryExpiresAt = Self.expiry(stored: cutoff.entryExpiresAt, fromTTL: stored.expiry)
            return cutoff
        }
    }

    /// GET and PTTL in one round trip. `expiry` is the key's real expiry, `nil` if it has none.
    func read(_ key: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<(value: [UInt8], expiry: Double?)?> {
        let now = WallClock.now()
        let replies = client.send([RedisCommand("GET", [key]), RedisCommand("PTTL", [key])], on: eventLoop)
        return replies[0].and(replies[1])
            .flatMapErrorThrowing { throw StoreError(redis: $0, key: key) }
            .map { value, ttl in
                guard let bytes = value.bytes else { return nil }
                let milliseconds = ttl.integer ?? -1
                return (bytes, milliseconds >= 0 ? now + Double(milliseconds) / 1000 : nil)
            }
    }

    package func ping(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        client.send(RedisCommand("PING"), on: eventLoop)
            .flatMapErrorThrowing { throw StoreError(redis: $0) }
            .map { _ in }
    }

    package func close() async {
        if ownsClient { await client.close() }
    }

    /// The key's TTL is the truth, but it carries a millisecond of jitter: when it agrees with the value's
    /// `expires_at` within a second, show the value's exact figure.
    static func expiry(stored: Double, fromTTL: Double?) -> Double {
        guard let fromTTL, abs(fromTTL - stored) > 1 else { return stored }
        return fromTTL
    }

    /// The value from the {value, pttl} pair the revoke scripts return.
    private static func storedValue(_ reply: RedisValue) -> [UInt8]? {
        guard let pair = reply.array, pair.count == 2, pair[1].integer != nil else { return nil }
        return pair[0].bytes
    }
}
