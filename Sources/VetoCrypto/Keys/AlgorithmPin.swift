import VetoCore

/// Decides the single algorithm a key is pinned to.
enum AlgorithmPin {
    /// `explicit` (an `ALG:` prefix) and `declared` (a JWK `alg`) must agree; the key's own
    /// choice (EC curve, Ed25519) fills in when both are absent. The result must fit the key.
    static func resolve(_ material: KeyMaterial, explicit: JWSAlgorithm?, declared: JWSAlgorithm?, source: String) throws(KeyLoadingError)
        -> JWSAlgorithm
    {
        if let explicit, let declared, !explicit.accepts(declared) {
            throw KeyLoadingError(
                .algorithmMismatch, source: source,
                "the key is requested as \(explicit), but the JWK says \"alg\": \"\(declared)\"")
        }
        guard let algorithm = explicit ?? declared ?? material.impliedAlgorithm else {
            switch material {
            case .secret:
                throw KeyLoadingError(
                    .algorithmRequired, source: source,
                    "an HMAC secret needs an algorithm: write HS256:FILE, HS384:FILE or HS512:FILE")
            default:
                throw KeyLoadingError(
                    .algorithmRequired, source: source,
                    "an RSA key needs an algorithm: write RS256:FILE or PS256:FILE (or RS384, RS512, PS384, PS512)")
            }
        }
        try material.check(algorithm: algorithm, source: source)
        return algorithm
    }
}
