/// The timing rules of revocation (ARCHITECTURE.md, "Revocation entries"). Pure, so every store, the server and the CLI agree.
///
/// Times are unix seconds as `Double` (NumericDate, fractions allowed); lifetimes are seconds.
package struct RevocationRules: Sendable, Equatable {
    /// Seconds a validator still accepts a token after its `exp`.
    package var leeway: Double
    /// Lifetime assumed for a token whose `exp` is unknown; also how long a subject cut-off must outlive itself.
    package var maxTokenLifetime: Double

    /// The latest time an entry may be asked to live to: 9999-12-31T23:59:59Z, the largest NumericDate accepted.
    package static let latestExpiry: Double = 253_402_300_799

    package init(leeway: Double = 60, maxTokenLifetime: Double = 86_400) {
        self.leeway = leeway
        self.maxTokenLifetime = maxTokenLifetime
    }

    /// When a token entry may disappear: `exp + leeway`, the last moment any validator could accept the token.
    ///
    /// Without a known `exp` (an admin revocation by jti), `now + maxTokenLifetime + 2 × leeway`. This
    /// is sound because the service refuses every token that lives longer than `maxTokenLifetime`
    /// (`exp − iat`, `lifetime_too_long`; security finding 2): a token minted by now carries an `iat` of
    /// at most `now + leeway` (an issuer clock ahead of ours), so it expires by `now + leeway +
    /// maxTokenLifetime` and is accepted at most `leeway` longer.
    package func entryExpiry(tokenExpiresAt: Double?, now: Double) -> Double {
        guard let tokenExpiresAt else { return now + maxTokenLifetime + 2 * leeway }
        return tokenExpiresAt + leeway
    }

    /// When a subject cut-off may disappear: every token it covers has `iat ≤ cutoff`, so (with token
    /// lifetimes capped at `maxTokenLifetime`, see `entryExpiry`) expires by `cutoff + maxTokenLifetime`
    /// and is accepted at most `leeway` longer.
    package func cutoffExpiry(cutoff: Double) -> Double {
        cutoff + maxTokenLifetime + leeway
    }

    /// Milliseconds from `now` until `expiry`, rounded up so an entry never ends early.
    ///
    /// At least 1, since a store cannot hold something for zero time: an entry for an already expired
    /// token then vanishes at once, which is harmless because no validator accepts that token any more.
    ///
    /// An expiry past ``latestExpiry`` (or not finite) counts as ``latestExpiry``: a rule from huge
    /// settings lives as long as anything can, and the conversion never traps.
    package static func timeToLive(until expiry: Double, now: Double) -> Int64 {
        let bounded = expiry.isNaN ? latestExpiry : min(expiry, latestExpiry)
        let milliseconds = ((bounded - now) * 1000).rounded(.up)
        guard milliseconds >= 1 else { return 1 }
        return Int64(milliseconds)
    }

    /// The largest leeway and maximum token lifetime Veto accepts (1 day of clock skew, 10 years of
    /// token life): beyond them a setting is a mistake, and a published rule is ignored.
    package static let maxLeeway: Double = 86_400
    package static let maxTokenLifetimeBound: Double = 315_360_000

    /// Whether these rules are within the bounds above.
    package var isWithinBounds: Bool {
        leeway.isFinite && leeway >= 0 && leeway <= Self.maxLeeway
            && maxTokenLifetime.isFinite && maxTokenLifetime > 0 && maxTokenLifetime <= Self.maxTokenLifetimeBound
    }

    /// Whether an entry that lives until `expiry` is gone at `now`.
    package static func isExpired(_ expiry: Double, now: Double) -> Bool {
        now >= expiry
    }

    /// Whether a subject cut-off rejects a token: its `iat` is at or before the cut-off.
    ///
    /// - Important: A token without a usable `iat` cannot prove it came after the cut-off, so it is rejected.
    package static func cutoffRejects(issuedAt: Double?, cutoff: Double) -> Bool {
        guard let issuedAt, issuedAt.isFinite else { return true }
        return issuedAt <= cutoff
    }

    /// The expiry a repeated revocation stores: revoking again never shortens an entry.
    package static func mergedExpiry(existing: Double?, requested: Double) -> Double {
        guard let existing else { return requested }
        return max(existing, requested)
    }

    /// The cut-off a repeated subject revocation stores: a cut-off never moves backwards.
    package static func mergedCutoff(existing: Double?, requested: Double) -> Double {
        guard let existing else { return requested }
        return max(existing, requested)
    }
}
