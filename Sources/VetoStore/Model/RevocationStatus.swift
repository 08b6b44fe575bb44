/// The answer to "may this token still be used?" as far as revocation goes.
package enum RevocationStatus: Sendable, Equatable {
    case notRevoked
    /// The (issuer, jti) entry exists. Its metadata is `nil` when the stored value could not be read:
    /// the entry's existence alone revokes the token.
    case tokenRevoked(RevocationEntry?)
    /// The subject was cut off at or after the token's `iat` (or the token has no `iat`).
    case subjectRevoked(SubjectCutoff)
}
