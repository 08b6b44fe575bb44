import VetoCore

/// What a replica knows of the Redis blocklist: every token entry and cut-off, each until its
/// key's TTL. Pure: the follower (``BlocklistReplica``) feeds it the keys it scans and the feed entries it
/// reads, and checks ask it with their own clock.
///
/// Applying the same write twice, or a scan and then feed entries that overlap it, gives the same state:
/// a set keeps the longer lifetime (as the revoke scripts do), a later cut-off wins, a delete deletes.
struct ReplicaState: Sendable {
    /// The replica's answer: like ``RevocationStatus`` without the token entry's details, which only
    /// Redis has (a replica keeps 64 bytes per token).
    enum Answer: Sendable, Equatable {
        case notRevoked
        case tokenRevoked
        case cutOff(Cutoff)
    }

    private enum Rule: Sendable {
        /// The stored value, as Redis would return it, and when its key goes.
        case readable(Cutoff, expiresAt: Double)
        /// A value that is not a cut-off: checks it could match fail (`corrupt_entry`), as in Redis.
        case unreadable(expiresAt: Double)

        var expiresAt: Double {
            switch self {
            case .readable(_, let expiresAt): expiresAt
            case .unreadable(let expiresAt): expiresAt
            }
        }
    }

    private let keys: BlocklistKeys
    private var issuers = InternTable()
    private var tokens = TokenTable<ReplicaToken>()
    private var cutoffs: [CutoffKey: Rule] = [:]
    private var sweepPosition = 0

    init(keys: BlocklistKeys) {
        self.keys = keys
    }

    var tokenCount: Int { tokens.count }
    var cutoffCount: Int { cutoffs.count }
    var count: Int { tokens.count + cutoffs.count }

    mutating func reserve(tokens count: Int) {
        tokens.reserve(count)
    }

    /// Applies one write: `key` now holds `value` for `ttlMilliseconds` (-1: no TTL) from `now`, or was
    /// deleted. Keys outside the layout (another prefix's, or not Veto's) are ignored.
    mutating func apply(key: [UInt8], _ operation: FeedEntry.Operation, now: Double) {
        guard let (kind, issuer, id) = keys.parse(key) else { return }
        switch (kind, operation) {
        case let (.token, .set(_, ttl)):
            let token = ReplicaToken(issuer: issuers.intern(issuer), jti: id.utf8, expiresAt: Self.expiry(ttl, now: now))
            if let existing = tokens.find(token), existing.expiresAt >= token.expiresAt { return }
            tokens.upsert(token)
        case (.token, .delete):
            guard let issuerID = issuers.id(of: issuer) else { return }
            tokens.remove(ReplicaToken(issuer: issuerID, jti: id.utf8, expiresAt: 0))
        case let (_, .set(value, ttl)):
            guard let kind = kind.cutoffKind else { return }
            let expiresAt = Self.expiry(ttl, now: now)
            let entryKey = CutoffKey(issuer: issuer, kind: kind, value: id)
            let longest = max(expiresAt, cutoffs[entryKey]?.expiresAt ?? 0)
            guard var cutoff = EntryJSON.cutoff(value) else {
                cutoffs[entryKey] = .unreadable(expiresAt: longest)
                return
            }
            // The key names the rule; the value only describes it.
            (cutoff.issuer, cutoff.kind, cutoff.value) = (issuer, kind, id)
            if case .readable(let existing, _)? = cutoffs[entryKey], existing.cutoff > cutoff.cutoff { cutoff = existing }
            cutoffs[entryKey] = .readable(cutoff, expiresAt: longest)
        case (_, .delete):
            guard let kind = kind.cutoffKind else { return }
            cutoffs[CutoffKey(issuer: issuer, kind: kind, value: id)] = nil
        case (_, .unreadable):
            break  // the follower decides (BlocklistReplica.follow)
        }
    }

    /// The revocation status of a token, as the Redis blocklist would answer it now: a refusing rule wins
    /// over an unreadable one, which fails the check (`corrupt_entry`).
    func status(_ query: RevocationQuery, now: Double) throws(StoreError) -> Answer {
        if let jti = query.jti, let issuerID = issuers.id(of: query.issuer),
            let token = tokens.find(ReplicaToken(issuer: issuerID, jti: jti.utf8, expiresAt: 0)),
            !RevocationRules.isExpired(token.expiresAt, now: now)
        {
            return .tokenRevoked
        }
        guard !cutoffs.isEmpty else { return .notRevoked }
        var refusing: Cutoff?
        var unreadable: [UInt8]?
        query.values.forEach { kind, value in
            guard refusing == nil, let rule = cutoffs[CutoffKey(issuer: query.issuer, kind: kind, value: value)],
                !RevocationRules.isExpired(rule.expiresAt, now: now)
            else { return }
            switch rule {
            case .unreadable:
                unreadable = unreadable ?? keys.cutoff(issuer: query.issuer, kind: kind, value: value)
            case .readable(let cutoff, _):
                if RevocationRules.cutoffRejects(issuedAt: query.issuedAt, cutoff: cutoff.cutoff) { refusing = cutoff }
            }
        }
        if let refusing { return .cutOff(refusing) }
        if let unreadable { throw StoreError(.corruptEntry, "unreadable cut-off at key \(BlocklistKeys.display(unreadable))") }
        return .notRevoked
    }

    /// The status of a token known by jti and subject only.
    func status(issuer: String, jti: String?, subject: String?, issuedAt: Double?, now: Double) throws(StoreError) -> Answer {
        try status(RevocationQuery(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt), now: now)
    }

    /// Drops up to `budget` expired token entries (and every expired cut-off) and remembers where it
    /// stopped. Checks never need it (they compare expiries); it only returns memory.
    mutating func sweep(now: Double, budget: Int) {
        sweepPosition = tokens.removeSome(from: sweepPosition, budget: budget) { RevocationRules.isExpired($0.expiresAt, now: now) }
        if sweepPosition == 0 { cutoffs = cutoffs.filter { !RevocationRules.isExpired($0.value.expiresAt, now: now) } }
    }

    private static func expiry(_ ttlMilliseconds: Int64, now: Double) -> Double {
        ttlMilliseconds < 0 ? .infinity : now + Double(ttlMilliseconds) / 1000
    }
}
