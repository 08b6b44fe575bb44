/// A revoked token, keyed by (issuer, jti). Times are unix seconds.
package struct RevocationEntry: Sendable, Equatable {
    package var issuer: String
    package var jti: String
    package var subject: String?
    /// The token's `exp`; `nil` when revoked by an admin who did not know it.
    package var tokenExpiresAt: Double?
    /// When it was first revoked (to the millisecond).
    package var revokedAt: Double
    package var reason: String
    /// Who revoked it: "logout", an admin name, a CLI user.
    package var actor: String?
    /// When the entry disappears: `exp + leeway`, or later if revoked again with a later `exp`.
    package var entryExpiresAt: Double

    package init(
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
