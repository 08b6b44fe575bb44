/// How long a gateway that caches auth answers may keep an allow (`--cache-hint`): never past the
/// token's expiry, nor past the replica's bound on staleness when checks read one. 0, the default,
/// keeps every answer `Cache-Control: no-store`. A revoked token can pass for up to this long at a
/// gateway that caches (README, "Caching allows at the gateway").
struct CacheHint: Sendable {
    /// `--cache-hint` in seconds; 0: off.
    let seconds: Int
    /// `max_staleness` (whole seconds) when checks read a replica, else nil.
    let staleness: Int?

    static let off = CacheHint(seconds: 0, staleness: nil)

    /// The `max-age` for an allow at `now` of a token that expires at `expiresAt`; 0: do not cache.
    func maxAge(expiresAt: Double?, now: Double) -> Int {
        guard seconds > 0, let expiresAt, expiresAt - now >= 1 else { return 0 }
        return min(seconds, Int((expiresAt - now).rounded(.down)), staleness ?? Int.max)
    }
}
