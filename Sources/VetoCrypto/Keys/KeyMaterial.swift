internal import COpenSSL
import VetoCore

/// A validated key before it is pinned to an algorithm. Asymmetric keys may hold private parts
/// (for signing); verifiers are built from `publicOnly()`.
enum KeyMaterial: Sendable {
    case rsa(EVPKey)
    case ec(EVPKey, ECCurve)
    case ed25519(EVPKey)
    case secret([UInt8])

    /// Classifies an OpenSSL key and applies the load-time checks for its type.
    static func classify(_ key: EVPKey, source: String) throws(KeyLoadingError) -> KeyMaterial {
        switch Int(key.baseID) {
        case Int(VETO_OPENSSL_PKEY_RSA):
            try RSAKeyPolicy.check(key, source: source)
            return .rsa(key)
        case Int(VETO_OPENSSL_PKEY_RSA_PSS):
            throw KeyLoadingError(
                .unsupportedKey, source: source,
                "the key is an RSASSA-PSS-restricted RSA key (id-RSASSA-PSS); export it as a plain RSA key (rsaEncryption) and pin PS256/PS384/PS512")
        case Int(VETO_OPENSSL_PKEY_EC):
            guard let groupName = key.stringParameter(OSSL_PKEY_PARAM_GROUP_NAME) else {
                throw KeyLoadingError(
                    .unsupportedKey, source: source,
                    "the EC key has explicit curve parameters; only the named curves P-256, P-384 and P-521 are accepted")
            }
            guard let curve = ECCurve(openSSLGroupName: groupName) else {
                throw KeyLoadingError(
                    .unsupportedKey, source: source,
                    "the EC key is on curve \(groupName); ES256, ES384 and ES512 need P-256, P-384 or P-521")
            }
            guard KeyChecks.publicKeyIsValid(key) else {
                throw KeyLoadingError(.invalidKey, source: source, "the EC public key is not a valid point on \(curve.jwkName)")
            }
            return .ec(key, curve)
        case Int(VETO_OPENSSL_PKEY_ED25519):
            return .ed25519(key)
        case Int(VETO_OPENSSL_PKEY_ED448):
            throw KeyLoadingError(.unsupportedKey, source: source, "the key is an Ed448 key; only Ed25519 is supported for EdDSA")
        default:
            let name = EVP_PKEY_get0_type_name(key.pointer).map { String(cString: $0) } ?? "unknown"
            throw KeyLoadingError(
                .unsupportedKey, source: source,
                "the key type \(name) is not supported; use RSA, EC (P-256, P-384, P-521) or Ed25519")
        }
    }

    /// The algorithm the key itself decides, when it decides one: the EC curve, or Ed25519.
    var impliedAlgorithm: JWSAlgorithm? {
        switch self {
        case let .ec(_, curve): curve.algorithm
        case .ed25519: .edDSA
        case .rsa, .secret: nil
        }
    }

    /// "RSA 2048-bit", "EC P-256", "Ed25519", "HMAC 32-byte secret".
    var summary: String {
        switch self {
        case let .rsa(key): "RSA \(key.bits)-bit"
        case let .ec(_, curve): "EC \(curve.jwkName)"
        case .ed25519: "Ed25519"
        case let .secret(bytes):
            // Raw secret files are used exactly as stored; a trailing newline is a common surprise.
            bytes.last == 0x0A ? "HMAC \(bytes.count)-byte secret, ending in a newline" : "HMAC \(bytes.count)-byte secret"
        }
    }

    /// "an RSA 2048-bit key", for messages.
    var kindDescription: String {
        switch self {
        case let .rsa(key): "an RSA \(key.bits)-bit key"
        case let .ec(_, curve): "an EC \(curve.jwkName) key"
        case .ed25519: "an Ed25519 key"
        case .secret: "an HMAC secret"
        }
    }

    /// The same key without private parts, as a provider-native key.
    func publicOnly(source: String) throws(KeyLoadingError) -> KeyMaterial {
        func strip(_ key: EVPKey) throws(KeyLoadingError) -> EVPKey {
            guard let stripped = key.publicOnly() else {
                throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "cannot extract the public key")
            }
            return stripped
        }
        switch self {
        case let .rsa(key): return .rsa(try strip(key))
        case let .ec(key, curve): return .ec(try strip(key), curve)
        case let .ed25519(key): return .ed25519(try strip(key))
        case .secret: return self
        }
    }

    /// Refuses an algorithm the key cannot serve: wrong family, wrong curve, HMAC secret too short,
    /// and above all a public key offered for HS* (the key-confusion attack).
    func check(algorithm: JWSAlgorithm, source: String) throws(KeyLoadingError) {
        let expected = Self.expectedKey(for: algorithm)
        switch self {
        case let .secret(bytes):
            guard algorithm.family == .hmac, let digest = algorithm.digest else {
                throw KeyLoadingError(.algorithmMismatch, source: source, "\(algorithm) needs \(expected), but this is an HMAC secret")
            }
            guard bytes.count >= digest.length else {
                throw KeyLoadingError(
                    .weakKey, source: source,
                    "the HMAC secret is \(bytes.count) bytes; \(algorithm) needs at least \(digest.length) (the hash output length)")
            }
        case .rsa, .ec, .ed25519:
            if algorithm.family == .hmac {
                throw KeyLoadingError(
                    .keyConfusion, source: source,
                    "\(algorithm) needs an HMAC secret, but this is \(kindDescription); a public key must never be used as an HMAC secret (key-confusion attack)"
                )
            }
            let fits: Bool
            switch self {
            case .rsa: fits = algorithm.family == .rsaPKCS1 || algorithm.family == .rsaPSS
            case let .ec(_, curve): fits = curve.algorithm == algorithm
            case .ed25519: fits = algorithm.family == .eddsa
            case .secret: fits = false
            }
            guard fits else {
                throw KeyLoadingError(.algorithmMismatch, source: source, "\(algorithm) needs \(expected), but this is \(kindDescription)")
            }
        }
    }

    /// The verifier for `algorithm`. Call `check(algorithm:source:)` first, on public-only material.
    func verifier(for algorithm: JWSAlgorithm) -> any SignatureVerifier {
        let digest = algorithm.digest ?? .sha256
        switch self {
        case let .secret(bytes):
            return HMACVerifier(secret: bytes, digest: digest)
        case let .rsa(key):
            return RSAVerifier(
                key: key, digest: digest, padding: algorithm.family == .rsaPSS ? .pss : .pkcs1,
                signatureLength: key.maximumSignatureSize)
        case let .ec(key, curve):
            return ECDSAVerifier(key: key, curve: curve)
        case let .ed25519(key):
            return EdDSAVerifier(key: key)
        }
    }

    /// "an RSA key", "an EC P-256 key"…
    static func expectedKey(for algorithm: JWSAlgorithm) -> String {
        switch algorithm.family {
        case .hmac: "an HMAC secret"
        case .rsaPKCS1, .rsaPSS: "an RSA key"
        case .ecdsa: "an EC \(ECCurve(algorithm: algorithm)?.jwkName ?? "") key"
        case .eddsa: "an Ed25519 key"
        }
    }
}

/// Printing or dumping key material (in a log line, a test failure, `dump`) shows only its summary:
/// an HMAC secret must never end up in a log.
extension KeyMaterial: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    var description: String { summary }
    var debugDescription: String { summary }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}
