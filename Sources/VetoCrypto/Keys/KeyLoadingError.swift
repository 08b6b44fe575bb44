/// Why a key file, or one key in it, was refused. The message names the source and the actual and expected values.
///
/// Equality compares the code only, so tests and callers match on `code`, not wording.
package struct KeyLoadingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable snake_case code for the kind of refusal.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case unrecognizedFormat = "unrecognized_key_format"
            case malformedKey = "malformed_key"
            case unsupportedKey = "unsupported_key"
            case unsupportedAlgorithm = "unsupported_algorithm"
            case algorithmRequired = "algorithm_required"
            case algorithmMismatch = "algorithm_mismatch"
            case keyConfusion = "key_confusion"
            case weakKey = "weak_key"
            case invalidKey = "invalid_key"
            case wrongUse = "wrong_key_use"
            case ambiguousKeySet = "ambiguous_key_set"
            case noUsableKey = "no_usable_key"
            case notAPrivateKey = "not_a_private_key"
            case cryptoFailure = "crypto_failure"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Not a JWK, JWKS, PEM file or (for HS*) secret; or PEM with no key block.
        package static let unrecognizedFormat = Code(.unrecognizedFormat)
        /// A JWK member or PEM block is missing, of the wrong type, or not decodable.
        package static let malformedKey = Code(.malformedKey)
        /// A key type or curve Veto does not verify with (RSA-PSS-restricted, Ed448, secp256k1, X25519…).
        package static let unsupportedKey = Code(.unsupportedKey)
        /// A JWK `alg` or requested algorithm that is not a supported JWS algorithm.
        package static let unsupportedAlgorithm = Code(.unsupportedAlgorithm)
        /// The key does not decide its algorithm (RSA, HMAC secret) and none was given.
        package static let algorithmRequired = Code(.algorithmRequired)
        /// The algorithm does not fit the key (family, curve), or the `ALG:` prefix and the JWK `alg` disagree.
        package static let algorithmMismatch = Code(.algorithmMismatch)
        /// A public key (PEM, DER or non-oct JWK) offered as an HMAC secret.
        package static let keyConfusion = Code(.keyConfusion)
        /// RSA under 2048 bits, a bad public exponent, a ROCA-weak modulus, or an HMAC secret shorter than the hash.
        package static let weakKey = Code(.weakKey)
        /// Key material that is not a valid key: EC point off the curve, wrong coordinate length, inconsistent private key.
        package static let invalidKey = Code(.invalidKey)
        /// JWK `use` other than `sig`, or `key_ops` without the needed operation.
        package static let wrongUse = Code(.wrongUse)
        /// A JWKS with duplicate (kid, alg) pairs, or mixing secret and public keys.
        package static let ambiguousKeySet = Code(.ambiguousKeySet)
        /// A JWKS in which every key was skipped.
        package static let noUsableKey = Code(.noUsableKey)
        /// A signing key was requested but the file holds only a public key.
        package static let notAPrivateKey = Code(.notAPrivateKey)
        /// OpenSSL failed for a reason not attributable to the key; the message carries its error queue.
        package static let cryptoFailure = Code(.cryptoFailure)

        package var description: String { value.rawValue }
    }

    package let code: Code
    /// The file or key the error is about ("rsa.pem", "jwks.json#kid-1").
    package let source: String
    /// A sentence naming the actual and expected values.
    package let message: String

    package init(_ code: Code, source: String, _ message: String) {
        self.code = code
        self.source = source
        self.message = message
    }

    /// "rsa.pem: RSA key is 1024 bits; at least 2048 are required".
    package var description: String { "\(source): \(message)" }

    package static func == (lhs: KeyLoadingError, rhs: KeyLoadingError) -> Bool { lhs.code == rhs.code }

    /// Wraps OpenSSL's error queue after `operation` failed on key material from `source`.
    static func openSSL(_ code: Code, source: String, _ operation: String) -> KeyLoadingError {
        KeyLoadingError(code, source: source, "\(operation) (OpenSSL: \(OpenSSLErrorQueue.drain()))")
    }
}
