import VetoCore

/// The answer to "may this token still be used?" as far as revocation goes.
package enum RevocationStatus: Sendable, Equatable {
    case notRevoked
    /// The (issuer, jti) entry exists. Its metadata is `nil` when the stored value could not be read:
    /// the entry's existence alone revokes the token.
    case tokenRevoked(RevocationEntry?)
    /// A cut-off matching the token is at or after its `iat` (or the token has no `iat`).
    case cutOff(Cutoff)
}

/// What a check asks the store about one verified token: its (issuer, jti) entry and every cut-off that
/// could match it.
package struct RevocationQuery: Sendable, Equatable {
    package var issuer: String
    package var jti: String?
    package var issuedAt: Double?
    package var values: CutoffValues

    package init(issuer: String, jti: String?, issuedAt: Double?, values: CutoffValues) {
        self.issuer = issuer
        self.jti = jti
        self.issuedAt = issuedAt
        self.values = values
    }

    /// The query of a token identified by jti and subject only (tests, the CLI's `status`).
    package init(issuer: String, jti: String?, subject: String?, issuedAt: Double?) {
        self.init(issuer: issuer, jti: jti, issuedAt: issuedAt, values: CutoffValues(subject: subject))
    }
}
