import VetoCore

/// Loads verification keys from the bytes of a key file, each pinned to exactly one algorithm.
package enum KeyLoader {
    /// Loads every usable key in a JWK, JWKS, PEM (public key, certificate, or private key whose
    /// public part is used) or, for HS*, raw-secret file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents, exactly as stored.
    ///   - source: a name for messages and `VerificationKey.source`, usually the path.
    ///   - algorithm: the `ALG:` prefix from the command line. It may be nil only when the key
    ///     decides: an EC curve, Ed25519, or a JWK with `alg`. In a JWKS it is the default for
    ///     keys without `alg` and keys with a different `alg` are skipped.
    /// - Returns: at least one key; JWKS entries that cannot be used are listed in `skipped`.
    /// - Important: A single JWK or PEM key that fails any check throws. A JWKS throws only when
    ///   the set itself is unsafe (duplicate kid for one algorithm, secret keys mixed with public
    ///   ones) or when no entry is usable.
    package static func verificationKeys(from bytes: [UInt8], source: String, algorithm: JWSAlgorithm? = nil) throws(KeyLoadingError) -> KeySetLoad {
        switch try KeyFile.detect(bytes, source: source, algorithm: algorithm) {
        case let .jwk(object):
            let key = try verificationKey(jwk: JWK(object, source: source), algorithm: algorithm)
            return KeySetLoad(keys: [key], skipped: [])
        case let .jwks(object):
            return try keySet(object, source: source, algorithm: algorithm)
        case let .pem(blocks):
            let key = try PEMKeySelection.single(from: blocks, source: source, purpose: .verification)
            let material = try KeyMaterial.classify(key, source: source).publicOnly(source: source)
            return KeySetLoad(keys: [try pin(material, explicit: algorithm, declared: nil, keyID: nil, source: source)], skipped: [])
        case let .secret(secret):
            return KeySetLoad(keys: [try pin(.secret(secret), explicit: algorithm, declared: nil, keyID: nil, source: source)], skipped: [])
        }
    }

    static func verificationKey(jwk: JWK, algorithm: JWSAlgorithm?) throws(KeyLoadingError) -> VerificationKey {
        try jwk.checkUse(for: .verification)
        let declared = try jwk.declaredAlgorithm()
        let material = try jwk.material(for: .verification)
        return try pin(material, explicit: algorithm, declared: declared, keyID: jwk.keyID, source: jwk.source)
    }

    /// Chooses the one algorithm and builds the verifier; see `AlgorithmPin`.
    static func pin(_ material: KeyMaterial, explicit: JWSAlgorithm?, declared: JWSAlgorithm?, keyID: String?, source: String) throws(KeyLoadingError)
        -> VerificationKey
    {
        let algorithm = try AlgorithmPin.resolve(material, explicit: explicit, declared: declared, source: source)
        return VerificationKey(
            algorithm: algorithm, keyID: keyID, summary: material.summary, source: source,
            verifier: material.verifier(for: algorithm)
        )
    }
}
