/// What to revoke: one token, by (issuer, jti).
package struct RevocationRequest: Sendable, Equatable {
    package var issuer: String
    package var jti: String
    package var subject: String?
    /// The token's `exp`. `nil` (an admin revocation without the token) keeps the entry for
    /// `maxTokenLifetime + leeway`.
    package var tokenExpiresAt: Double?
    package var reason: String
    package var actor: String?
    /// Defaults to now; settable for imports and tests.
    package var revokedAt: Double?

    package init(
        issuer: String, jti: String, subject: String? = nil, tokenExpiresAt: Double? = nil,
        reason: String = "revoked", actor: String? = nil, revokedAt: Double? = nil
    ) {
        self.issuer = issuer
        self.jti = jti
        self.subject = subject
        self.tokenExpiresAt = tokenExpiresAt
        self.reason = reason
        self.actor = actor
        self.revokedAt = revokedAt
    }
}
