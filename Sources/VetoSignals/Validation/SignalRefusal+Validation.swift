import VetoCore

extension SignalRefusal {
    /// The refusal for the first failure of a validation report (failures come in checklist order:
    /// structure, algorithm, key, signature, then the claims). `message` names the token's values
    /// only; the failure's `detail` (configured keys and issuers) stays out of answers.
    init(_ failure: ValidationFailure) {
        let code: Code =
            switch failure.code {
            case .algorithmNotAllowed: .algorithmNotAllowed
            case .unknownKeyID: .unknownKeyID
            case .signatureInvalid: .signatureInvalid
            case .tokenExpired: .tokenExpired
            case .tokenNotYetValid: .tokenNotYetValid
            case .issuerUnknown: .issuerUnknown
            case .audienceMismatch: .audienceMismatch
            case .tokenTypeMismatch: .tokenTypeMismatch
            case .missingClaim: .missingClaim
            case .malformedClaim, .lifetimeTooLong: .malformedClaim
            // Too large, a JWE, an unsupported crit: not a signed token this endpoint can read.
            default: .malformedToken
            }
        self.init(code, failure.message)
    }
}

/// Rules for the identifiers a signal carries (sub, sid, email, jti): they become store keys and are
/// compared with token claims byte for byte.
enum SignalIdentifier {
    /// Values the store can hold (`BlocklistConfiguration.maxKeyComponentLength`).
    static let maxBytes = 512

    /// Nil when `value` can be a cut-off value; else the reason, naming the claim.
    ///
    /// Refused: empty, longer than `maxBytes`, leading or trailing blanks, and characters that change
    /// how text is shown (`ControlCharacters`). A token carrying such a `sub` is refused by every
    /// check anyway (its identity cannot travel in a header unaltered), so such a cut-off could only
    /// be a forged log line or a look-alike of another user.
    static func problem(_ value: String, name: String) -> SignalRefusal? {
        if value.isEmpty { return SignalRefusal(.malformedClaim, "The \(name) is an empty string.") }
        let length = value.utf8.count
        if length > maxBytes {
            return SignalRefusal(.malformedClaim, "The \(name) is \(length) bytes long; at most \(maxBytes) are accepted.")
        }
        let first = value.unicodeScalars.first!, last = value.unicodeScalars.last!
        if first == " " || last == " " || first == "\t" || last == "\t" || value.unicodeScalars.contains(where: ControlCharacters.isUnsafe) {
            return SignalRefusal(.malformedClaim, "The \(name) has leading or trailing blanks or control characters.")
        }
        return nil
    }
}
