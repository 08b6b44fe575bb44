internal import COpenSSL

/// Load-time refusals for RSA public keys.
enum RSAKeyPolicy {
    /// Anything smaller is refused at load time (ARCHITECTURE.md, "Keys and algorithms").
    static let minimumBits = 2048

    static func check(_ key: EVPKey, source: String) throws(KeyLoadingError) {
        let bits = key.bits
        guard bits >= minimumBits else {
            throw KeyLoadingError(.weakKey, source: source, "RSA key is \(bits) bits; at least \(minimumBits) are required")
        }
        guard let exponent = key.bigNumberParameter(OSSL_PKEY_PARAM_RSA_E),
            let modulus = key.bigNumberParameter(OSSL_PKEY_PARAM_RSA_N)
        else {
            throw KeyLoadingError.openSSL(.malformedKey, source: source, "cannot read the RSA modulus and exponent")
        }
        // e = 1 makes every "signature" equal to its padded message; an even e is not invertible.
        let exponentIsOdd = (exponent.last ?? 0) & 1 == 1
        let exponentIsOne = exponent.count == 1 && exponent[0] == 1
        guard exponentIsOdd, !exponentIsOne else {
            throw KeyLoadingError(
                .weakKey, source: source,
                "RSA public exponent is \(describe(exponent)); it must be odd and at least 3 (normally 65537)")
        }
        guard !ROCAFingerprint.matches(modulus: modulus) else {
            throw KeyLoadingError(
                .weakKey, source: source,
                "RSA modulus has the ROCA fingerprint (CVE-2017-15361): its private key can be recovered; replace the key")
        }
    }

    private static func describe(_ exponent: [UInt8]) -> String {
        guard exponent.count <= 8 else { return "a \(exponent.count)-byte even number" }
        return String(exponent.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
}
