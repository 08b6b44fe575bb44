/// A revoked token, keyed by (issuer, jti). Times are unix seconds.
public struct RevocationEntry: Sendable, Equatable {
    public var issuer: String
    public var jti: String
    public var subject: String?
    /// The token's `exp`; `nil` when revoked by an admin who did not know it.
    public var tokenExpiresAt: Double?
    /// When it was first revoked (to the millisecond).
    public var revokedAt: Double
    public var reason: String
    /// Who revoked it: "logout", an admin name, a CLI user.
    public var actor: String?
    /// When the entry disappears: `exp + leeway`, or later if revoked again with a later `exp`.
    public var entryExpiresAt: Double

    public init(
        issuer: String, jti: String, subject: String?, tokenExpiresAt: Double?, revokedAt: Double,
        reason: String, actor: String?, entryExpiresAt: Double
    ) {
        self.issuer = issuer
        self.jti = jti
        self.subject = subject
        self.tokenExpiresAt = tokenExpiresAt
        self.revokedAt = revokedAt
        self.reason = reason
        self.actor = actor
        self.entryExpiresAt = entryExpiresAt
    }
}
