internal import COpenSSL

extension PEMBlock {
    /// Labels that carry a public key, or a certificate holding one.
    static let publicLabels: Set<String> = ["PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"]
    /// Labels that carry an unencrypted private key.
    static let privateLabels: Set<String> = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]

    /// Decodes this block's key. A certificate yields its subject public key; its validity period
    /// and chain are not checked: it is only a container for the key the operator chose to trust.
    func key(source: String) throws(KeyLoadingError) -> EVPKey {
        if label == "ENCRYPTED PRIVATE KEY" {
            throw KeyLoadingError(
                .unsupportedKey, source: source,
                "the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN.pem)")
        }
        let decoded: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            guard let start = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = start
            let length = buffer.count
            let key: OpaquePointer?
            switch label {
            case "PUBLIC KEY": key = d2i_PUBKEY(nil, &cursor, length)
            case "RSA PUBLIC KEY": key = d2i_PublicKey(Int32(VETO_OPENSSL_PKEY_RSA), nil, &cursor, length)
            case "PRIVATE KEY": key = d2i_AutoPrivateKey(nil, &cursor, length)
            case "RSA PRIVATE KEY": key = d2i_PrivateKey(Int32(VETO_OPENSSL_PKEY_RSA), nil, &cursor, length)
            case "EC PRIVATE KEY": key = d2i_PrivateKey(Int32(VETO_OPENSSL_PKEY_EC), nil, &cursor, length)
            case "CERTIFICATE":
                guard let certificate = d2i_X509(nil, &cursor, length) else { return nil }
                defer { X509_free(certificate) }
                key = X509_get_pubkey(certificate)
            default: return nil
            }
            // Trailing bytes after the DER structure mean the block is not what it claims.
            guard let key else { return nil }
            guard cursor == start + length else {
                EVP_PKEY_free(key)
                return nil
            }
            return key
        }
        guard let decoded else {
            throw KeyLoadingError.openSSL(.invalidKey, source: source, "the \(label) block does not hold a valid key")
        }
        return EVPKey(taking: decoded)
    }
}
