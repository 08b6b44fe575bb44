/// What to revoke: one token, by (issuer, jti).
public struct RevocationRequest: Sendable, Equatable {
    public var issuer: String
    public var jti: String
    public var subject: String?
    /// The token's `exp`. `nil` (an admin revocation without the token) keeps the entry for
    /// `maxTokenLifetime + leeway`.
    public var tokenExpiresAt: Double?
    public var reason: String
    public var actor: String?
    /// Defaults to now; settable for imports and tests.
    public var revokedAt: Double?

    public init(
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
