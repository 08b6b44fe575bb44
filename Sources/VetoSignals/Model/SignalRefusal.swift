/// A signal refused, with its stable code and a sentence. The codes are API (contract §3, §4):
/// never rename one.
package struct SignalRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, CaseIterable {
        case malformedToken = "malformed_token"
        case issuerUnknown = "issuer_unknown"
        case signatureInvalid = "signature_invalid"
        case algorithmNotAllowed = "algorithm_not_allowed"
        case unknownKeyID = "unknown_key_id"
        case audienceMismatch = "audience_mismatch"
        case tokenExpired = "token_expired"
        case tokenNotYetValid = "token_not_yet_valid"
        case missingClaim = "missing_claim"
        case malformedClaim = "malformed_claim"
        case tokenTypeMismatch = "token_type_mismatch"
        case eventsMissing = "events_missing"
        case eventsTooMany = "events_too_many"
        case noncePresent = "nonce_present"
        case jtiReplayed = "jti_replayed"
        case subjectUnsupported = "subject_unsupported"

        /// The RFC 8935 §2.3 error code of a push refusal (and of a poll `setErrs` entry).
        package var setError: String {
            switch self {
            case .signatureInvalid, .algorithmNotAllowed, .unknownKeyID: "invalid_key"
            case .issuerUnknown: "invalid_issuer"
            case .audienceMismatch: "invalid_audience"
            default: "invalid_request"
            }
        }
    }

    package let code: Code
    /// Names the token's own values and what was expected; never the configuration (keys, files).
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
