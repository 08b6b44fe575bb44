internal import COpenSSL

/// OpenSSL's own key validation, run once at load time.
enum KeyChecks {
    /// Full public-key check: for EC, the point is on the curve, not at infinity, and of order n.
    static func publicKeyIsValid(_ key: EVPKey) -> Bool {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else { return false }
        defer { EVP_PKEY_CTX_free(context) }
        let valid = EVP_PKEY_public_check(context) == 1
        OpenSSLErrorQueue.clear()
        return valid
    }

    /// The private key matches the public key (RSA: n = p·q and d·e ≡ 1; EC: d·G = Q).
    static func keyPairIsConsistent(_ key: EVPKey) -> Bool {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else { return false }
        defer { EVP_PKEY_CTX_free(context) }
        let consistent = EVP_PKEY_pairwise_check(context) == 1
        OpenSSLErrorQueue.clear()
        return consistent
    }
}
