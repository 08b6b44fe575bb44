import VetoCore

/// ES256/384/512: raw r ‖ s of exactly twice the coordinate length, r and s in [1, n−1].
struct ECDSAVerifier: SignatureVerifier {
    let key: EVPKey
    let curve: ECCurve
    /// The verify context set up once for this key; nil if OpenSSL could not, then each call sets one up.
    let prepared: PreparedVerifyContext?

    init(key: EVPKey, curve: ECCurve) {
        self.key = key
        self.curve = curve
        self.prepared = PreparedVerifyContext(key: key, digest: curve.algorithm.digest, padding: nil)
    }

    func verify(signature: [UInt8], signingInput: ArraySlice<UInt8>) -> Bool {
        guard let der = ECDSASignature.der(fromRaw: signature, curve: curve) else { return false }
        return der.withUnsafeBytes {
            prepared?.verify(signature: $0, message: signingInput)
                ?? key.verify(signature: $0, message: signingInput, digest: curve.algorithm.digest, padding: nil)
        }
    }
}
