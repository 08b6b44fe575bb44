/// Stable machine codes for every way a token can be refused. These strings are API:
/// gateways, logs, dashboards and the `error` field of HTTP answers carry them. Never rename one.
package enum ReasonCode: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case malformedToken = "malformed_token"
    case encryptedTokenUnsupported = "encrypted_token_unsupported"
    case tokenTooLarge = "token_too_large"
    case unsupportedCriticalHeader = "unsupported_critical_header"
    case algorithmNotAllowed = "algorithm_not_allowed"
    case unknownKeyID = "unknown_key_id"
    case signatureInvalid = "signature_invalid"
    case tokenExpired = "token_expired"
    case tokenNotYetValid = "token_not_yet_valid"
    case issuerUnknown = "issuer_unknown"
    case audienceMismatch = "audience_mismatch"
    case tokenTypeMismatch = "token_type_mismatch"
    case lifetimeTooLong = "lifetime_too_long"
    case missingClaim = "missing_claim"
    case malformedClaim = "malformed_claim"
    case tokenRevoked = "token_revoked"
    case subjectRevoked = "subject_revoked"
    /// Cut-offs by other claims (`CutoffKind`): the session (`sid`), the signing key (`kid`), the client
    /// (`azp`/`client_id`), every token of the issuer, the `email` claim.
    case sessionRevoked = "session_revoked"
    case keyRevoked = "key_revoked"
    case clientRevoked = "client_revoked"
    case issuerCutoff = "issuer_cutoff"
    case emailRevoked = "email_revoked"
    case storeUnavailable = "store_unavailable"
    /// No bearer token in the request at all (the service answers with a plain `Bearer` challenge).
    case missingToken = "missing_token"

    package var description: String { rawValue }
}
