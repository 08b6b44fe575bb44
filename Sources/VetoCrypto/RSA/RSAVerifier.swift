import VetoCore

/// RS256/384/512 (PKCS#1 v1.5) and PS256/384/512 (PSS, salt length = digest length).
struct RSAVerifier: SignatureVerifier {
    let key: EVPKey
    let digest: JWSAlgorithm.Digest
    let padding: RSAPadding
    /// The modulus length in bytes; a JWS RSA signature is exactly this long (RFC 7518 §3.3).
    let signatureLength: Int
    /// The verify context set up once for this key; nil if OpenSSL could not, then each call sets one up.
    let prepared: PreparedVerifyContext?

    init(key: EVPKey, digest: JWSAlgorithm.Digest, padding: RSAPadding, signatureLength: Int) {
        self.key = key
        self.digest = digest
        self.padding = padding
        self.signatureLength = signatureLength
        self.prepared = PreparedVerifyContext(key: key, digest: digest, padding: padding)
    }

    func verify(signature: [UInt8], signingInput: ArraySlice<UInt8>) -> Bool {
        guard signature.count == signatureLength else { return false }
        return signature.withUnsafeBytes {
            prepared?.verify(signature: $0, message: signingInput)
                ?? key.verify(signature: $0, message: signingInput, digest: digest, padding: padding)
        }
    }
}
