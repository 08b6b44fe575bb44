/// Stable machine codes for every way a token can be refused. These strings are API:
/// gateways, logs, dashboards and the `error` field of HTTP answers carry them. Never rename one.
public enum ReasonCode: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
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
    case storeUnavailable = "store_unavailable"
    /// No bearer token in the request at all (the service answers with a plain `Bearer` challenge).
    case missingToken = "missing_token"

    public var description: String { rawValue }
}

/// The line of the verification checklist a failure belongs to.
public enum ValidationCheck: String, Sendable, CaseIterable, Hashable {
    case structure, algorithm, key, signature
    case expiry = "exp", notBefore = "nbf", issuedAt = "iat"
    case issuer = "iss", audience = "aud", type = "typ"
    case requiredClaims = "required claims", lifetime
    case revocation
}

/// One reason a token was refused: a stable code, the checklist line, a sentence that
/// names the actual and expected values, and a hint on how to fix it.
///
/// `message` is what anyone may read: it names the token's own values and the value the failed
/// check expected, and goes into HTTP answers. `detail` describes the configuration (every
/// configured issuer, every known kid, key files): only the terminal shows it (`veto verify`),
/// never an HTTP answer (security finding 9).
public struct ValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ReasonCode
    public let check: ValidationCheck
    public let message: String
    public let hint: String?
    public let detail: String?

    public init(_ code: ReasonCode, _ check: ValidationCheck, _ message: String, hint: String? = nil, detail: String? = nil) {
        self.code = code
        self.check = check
        self.message = message
        self.hint = hint
        self.detail = detail
    }

    /// The message with the configuration detail, for the operator's terminal.
    public var fullMessage: String { detail.map { "\(message) \($0)" } ?? message }

    public var description: String { "\(code.rawValue): \(message)" }
}
