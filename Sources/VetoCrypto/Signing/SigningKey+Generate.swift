internal import COpenSSL
import VetoCore

extension SigningKey {
    /// Size of generated RSA keys.
    package static let generatedRSABits = 2048

    /// A fresh key for `algorithm`: RSA 2048-bit for RS*/PS*, the matching curve for ES*,
    /// Ed25519 for EdDSA, and a random secret as long as the hash output for HS*.
    package static func generate(algorithm: JWSAlgorithm, keyID: String? = nil) throws(KeyLoadingError) -> SigningKey {
        let source = "generated \(algorithm) key"
        let material: KeyMaterial
        switch algorithm.family {
        case .hmac:
            material = .secret(SecureRandom.bytes(algorithm.digest?.length ?? 64))
        case .rsaPKCS1, .rsaPSS:
            material = try KeyMaterial.classify(
                generateKey(type: "RSA", source: source) { context in
                    EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(generatedRSABits)) == 1
                }, source: source)
        case .ecdsa:
            let curveName = ECCurve(algorithm: algorithm)?.jwkName ?? "P-256"
            material = try KeyMaterial.classify(
                generateKey(type: "EC", source: source) { context in
                    EVP_PKEY_CTX_set_group_name(context, curveName) == 1
                }, source: source)
        case .eddsa:
            material = try KeyMaterial.classify(generateKey(type: "ED25519", source: source) { _ in true }, source: source)
        }
        return SigningKey(algorithm: algorithm, keyID: keyID, material: material)
    }

    private static func generateKey(type: String, source: String, configure: (OpaquePointer) -> Bool) throws(KeyLoadingError) -> EVPKey {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "EVP_PKEY_CTX_new_from_name(\(type))")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1, configure(context) else {
            throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "preparing \(type) key generation")
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "generating a \(type) key")
        }
        return EVPKey(taking: key)
    }
}
