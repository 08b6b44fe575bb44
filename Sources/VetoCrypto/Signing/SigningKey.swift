import VetoCore

/// A private key or HMAC secret pinned to one algorithm, producing JWS signatures.
///
/// Meant for `veto sign`, demos and tests. Load it from a private-key PEM (PKCS#8, PKCS#1
/// "RSA PRIVATE KEY", SEC 1 "EC PRIVATE KEY"), a private JWK, or for HS* a raw secret file.
package struct SigningKey: Sendable {
    package let algorithm: JWSAlgorithm
    /// The JWK's `kid`, or the one given to `generate`.
    package let keyID: String?
    /// "RSA 2048-bit", "EC P-256", "Ed25519", "HMAC 32-byte secret".
    package let summary: String
    let material: KeyMaterial

    init(algorithm: JWSAlgorithm, keyID: String?, material: KeyMaterial) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.summary = material.summary
        self.material = material
    }

    /// Loads a signing key; the algorithm rules are those of `KeyLoader.verificationKeys`.
    package static func load(from bytes: [UInt8], source: String, algorithm: JWSAlgorithm? = nil) throws(KeyLoadingError) -> SigningKey {
        switch try KeyFile.detect(bytes, source: source, algorithm: algorithm) {
        case let .jwk(object):
            let jwk = try JWK(object, source: source)
            try jwk.checkUse(for: .signing)
            let declared = try jwk.declaredAlgorithm()
            let material = try jwk.material(for: .signing)
            let pinned = try AlgorithmPin.resolve(material, explicit: algorithm, declared: declared, source: source)
            return SigningKey(algorithm: pinned, keyID: jwk.keyID, material: material)
        case .jwks:
            throw KeyLoadingError(.unrecognizedFormat, source: source, "a JWKS holds a set of keys; give the one private JWK to sign with")
        case let .pem(blocks):
            let key = try PEMKeySelection.single(from: blocks, source: source, purpose: .signing)
            let material = try KeyMaterial.classify(key, source: source)
            if case .ed25519 = material {
            } else if !KeyChecks.keyPairIsConsistent(key) {
                throw KeyLoadingError(.invalidKey, source: source, "the private key is inconsistent with its public part")
            }
            let pinned = try AlgorithmPin.resolve(material, explicit: algorithm, declared: nil, source: source)
            return SigningKey(algorithm: pinned, keyID: nil, material: material)
        case let .secret(secret):
            let pinned = try AlgorithmPin.resolve(.secret(secret), explicit: algorithm, declared: nil, source: source)
            return SigningKey(algorithm: pinned, keyID: nil, material: .secret(secret))
        }
    }

    /// The JWS signature over `signingInput` (`BASE64URL(header) '.' BASE64URL(payload)`).
    /// ES* signatures are raw r ‖ s of 64, 96 or 132 bytes.
    package func sign(_ signingInput: [UInt8]) throws(SigningError) -> [UInt8] {
        switch material {
        case let .secret(secret):
            guard let digest = algorithm.digest, let mac = HMACComputation.mac(secret: secret, message: signingInput[...], digest: digest) else {
                throw SigningError.openSSL("HMAC")
            }
            return mac
        case let .rsa(key):
            return try key.sign(message: signingInput, digest: algorithm.digest, padding: algorithm.family == .rsaPSS ? .pss : .pkcs1)
        case let .ec(key, curve):
            let der = try key.sign(message: signingInput, digest: algorithm.digest, padding: nil)
            guard let raw = ECDSASignature.raw(fromDER: der, curve: curve) else {
                throw SigningError(message: "OpenSSL returned an ECDSA signature that does not fit \(curve.jwkName)")
            }
            return raw
        case let .ed25519(key):
            return try key.sign(message: signingInput, digest: nil, padding: nil)
        }
    }

    /// The matching verification key (public part only), pinned to the same algorithm.
    package func verificationKey(source: String = "generated") throws(KeyLoadingError) -> VerificationKey {
        let publicMaterial = try material.publicOnly(source: source)
        return VerificationKey(
            algorithm: algorithm, keyID: keyID, summary: summary, source: source,
            verifier: publicMaterial.verifier(for: algorithm))
    }
}
