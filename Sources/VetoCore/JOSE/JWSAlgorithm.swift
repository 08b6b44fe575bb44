/// The JWS algorithms Veto verifies (RFC 7518 §3, RFC 8037, RFC 9864).
///
/// `none` is deliberately absent: an unsecured token can never be represented as an algorithm.
package enum JWSAlgorithm: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case hs256 = "HS256", hs384 = "HS384", hs512 = "HS512"
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    /// EdDSA over Ed25519 (RFC 8037). A key pinned to EdDSA also accepts the RFC 9864 name `Ed25519`.
    case edDSA = "EdDSA"
    /// The fully-specified RFC 9864 name for EdDSA over Ed25519.
    case ed25519 = "Ed25519"

    package enum Family: Sendable, Hashable {
        case hmac, rsaPKCS1, rsaPSS, ecdsa, eddsa
    }

    package enum Digest: Sendable, Hashable {
        case sha256, sha384, sha512

        /// Output length in bytes.
        package var length: Int {
            switch self {
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }
    }

    package var family: Family {
        switch self {
        case .hs256, .hs384, .hs512: .hmac
        case .rs256, .rs384, .rs512: .rsaPKCS1
        case .ps256, .ps384, .ps512: .rsaPSS
        case .es256, .es384, .es512: .ecdsa
        case .edDSA, .ed25519: .eddsa
        }
    }

    /// The digest, or nil for EdDSA, which hashes internally.
    package var digest: Digest? {
        switch self {
        case .hs256, .rs256, .ps256, .es256: .sha256
        case .hs384, .rs384, .ps384, .es384: .sha384
        case .hs512, .rs512, .ps512, .es512: .sha512
        case .edDSA, .ed25519: nil
        }
    }

    /// True when a token whose header says `headerAlgorithm` may be verified by a key pinned to `self`.
    /// Only EdDSA has two names; every other algorithm must match exactly.
    package func accepts(_ headerAlgorithm: JWSAlgorithm) -> Bool {
        if self == headerAlgorithm { return true }
        return family == .eddsa && headerAlgorithm.family == .eddsa
    }

    package var description: String { rawValue }
}
