import VetoCore

/// What a check decided, before it becomes an HTTP answer.
enum CheckOutcome: Sendable {
    /// A valid, unrevoked token. `degraded` when the store was down and fail-open let it through.
    case allowed(VerifiedToken, degraded: Bool)
    /// Refused, with the first reason in checklist order and what is known of the token (for logs).
    case denied(ValidationFailure, TokenFacts)
    /// The blocklist could not be read; fail closed.
    case unavailable(reason: String, TokenFacts)
}

/// The parts of a verified token the service answers with.
struct VerifiedToken: Sendable {
    let issuerIndex: Int
    /// The jti, or `sha256:<hex>` of the token for issuers that identify jti-less tokens by digest.
    let revocationID: String
    let issuer: String
    let subject: String?
    let issuedAt: Double?
    /// What the logs may say about it.
    let facts: TokenFacts
    /// Every claim, for introspection; nil when the token came from the verification cache, which
    /// keeps only what a check answers with (the control plane never uses the cache).
    let claims: JWTClaims?
    /// The 200 answer, rendered once.
    let answer: AllowedAnswer
}

/// What may be logged about a token: never the token itself.
struct TokenFacts: Sendable {
    var subject: String?
    var jwtID: String?
    var expiresAt: Double?
    var issuer: String?

    static let none = TokenFacts()

    init(subject: String? = nil, jwtID: String? = nil, expiresAt: Double? = nil, issuer: String? = nil) {
        self.subject = subject
        self.jwtID = jwtID
        self.expiresAt = expiresAt
        self.issuer = issuer
    }

    init(_ claims: JWTClaims?) {
        self.init(subject: claims?.subject, jwtID: claims?.jwtID, expiresAt: claims?.expiresAt, issuer: claims?.issuer)
    }
}
