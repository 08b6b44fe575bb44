import VetoCore

/// What a replica knows of the Redis blocklist: every token entry and subject cut-off, each until its
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
        case subjectRevoked(SubjectCutoff)
    }

    private enum Cutoff: Sendable {
        /// The stored value, as Redis would return it, and when its key goes.
        case readable(SubjectCutoff, expiresAt: Double)
        /// A value that is not a cut-off: checks of that subject fail (`corrupt_entry`), as in Redis.
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
    private var cutoffs: [EntryKey: Cutoff] = [:]
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
        case let (.subject, .set(value, ttl)):
            let expiresAt = Self.expiry(ttl, now: now)
            let entryKey = EntryKey(issuer: issuer, id: id)
            let longest = max(expiresAt, cutoffs[entryKey]?.expiresAt ?? 0)
            guard var cutoff = EntryJSON.cutoff(value) else {
                cutoffs[entryKey] = .unreadable(expiresAt: longest)
                return
            }
            if case .readable(let existing, _)? = cutoffs[entryKey], existing.cutoff > cutoff.cutoff { cutoff = existing }
            cutoffs[entryKey] = .readable(cutoff, expiresAt: longest)
        case (.subject, .delete):
            cutoffs[EntryKey(issuer: issuer, id: id)] = nil
        }
    }

    /// The revocation status of a token, as the Redis blocklist would answer it now.
    func status(issuer: String, jti: String?, subject: String?, issuedAt: Double?, now: Double) throws(StoreError) -> Answer {
        if let jti, let issuerID = issuers.id(of: issuer),
            let token = tokens.find(ReplicaToken(issuer: issuerID, jti: jti.utf8, expiresAt: 0)),
            !RevocationRules.isExpired(token.expiresAt, now: now)
        {
            return .tokenRevoked
        }
        guard let subject, !cutoffs.isEmpty, let rule = cutoffs[EntryKey(issuer: issuer, id: subject)],
            !RevocationRules.isExpired(rule.expiresAt, now: now)
        else { return .notRevoked }
        switch rule {
        case .unreadable:
            throw StoreError(
                .corruptEntry, "unreadable subject cut-off at key \(BlocklistKeys.display(keys.subject(issuer: issuer, subject: subject)))")
        case .readable(let cutoff, _):
            return RevocationRules.cutoffRejects(issuedAt: issuedAt, cutoff: cutoff.cutoff) ? .subjectRevoked(cutoff) : .notRevoked
        }
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
