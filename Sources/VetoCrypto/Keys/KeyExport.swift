internal import COpenSSL

/// Serialises OpenSSL keys: PEM text and raw Ed25519 bytes.
enum KeyExport {
    /// SubjectPublicKeyInfo ("PUBLIC KEY") or unencrypted PKCS#8 ("PRIVATE KEY") PEM.
    static func pem(_ key: EVPKey, includePrivate: Bool) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        let written =
            includePrivate
            ? PEM_write_bio_PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil)
            : PEM_write_bio_PUBKEY(bio, key.pointer)
        guard written == 1 else { return nil }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = veto_openssl_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { return nil }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// The 32-byte Ed25519 public key.
    static func rawPublicKey(_ key: EVPKey) -> [UInt8]? {
        raw { EVP_PKEY_get_raw_public_key(key.pointer, $0, $1) }
    }

    /// The 32-byte Ed25519 private key (seed).
    static func rawPrivateKey(_ key: EVPKey) -> [UInt8]? {
        raw { EVP_PKEY_get_raw_private_key(key.pointer, $0, $1) }
    }

    private static func raw(_ read: (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int>) -> Int32) -> [UInt8]? {
        var length = 0
        guard read(nil, &length) == 1 else { return nil }
        var bytes = [UInt8](repeating: 0, count: length)
        guard bytes.withUnsafeMutableBufferPointer({ read($0.baseAddress, &length) }) == 1 else { return nil }
        return Array(bytes[0..<length])
    }
}
