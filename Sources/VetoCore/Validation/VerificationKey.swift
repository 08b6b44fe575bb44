/// Checks a JWS signature. Implementations live in VetoCrypto; the core only asks yes or no.
///
/// - Important: Implementations must be safe to call from many threads at once, and must not
///   take the algorithm from the token: the key was pinned to one algorithm when it was loaded.
package protocol SignatureVerifier: Sendable {
    /// True when `signature` is a valid signature of `signingInput` (the ASCII bytes
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`).
    func verify(signature: [UInt8], signingInput: ArraySlice<UInt8>) -> Bool
}

/// A public (or HMAC) key, pinned to exactly one algorithm, with optional key ID.
package struct VerificationKey: Sendable {
    package let algorithm: JWSAlgorithm
    package let keyID: String?
    /// A short human description: "RSA 2048-bit", "EC P-256", "Ed25519", "HMAC 32-byte secret".
    package let summary: String
    /// Where the key came from ("rsa.pem", "jwks.json#kid-1"), for diagnostics.
    package let source: String
    package let verifier: any SignatureVerifier

    package init(algorithm: JWSAlgorithm, keyID: String?, summary: String, source: String, verifier: any SignatureVerifier) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.summary = summary
        self.source = source
        self.verifier = verifier
    }

    /// "RS256 key 'kid-1' (RSA 2048-bit, from jwks.json)".
    package var label: String {
        var text = "\(algorithm) key"
        if let keyID { text += " '\(keyID)'" }
        text += " (\(summary), from \(source))"
        return text
    }
}
