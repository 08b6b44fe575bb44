/// What a loaded key will do; decides which JWK `key_ops` value is required and whether private parts are needed.
enum KeyPurpose: Sendable {
    case verification
    case signing

    /// The RFC 7517 §4.3 `key_ops` value this purpose needs.
    var keyOperation: String {
        switch self {
        case .verification: "verify"
        case .signing: "sign"
        }
    }
}
