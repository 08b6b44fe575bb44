import VetoCore

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
