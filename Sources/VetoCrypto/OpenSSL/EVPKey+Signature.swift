internal import COpenSSL
import VetoCore

/// RSA padding for `EVP_DigestSign`/`EVP_DigestVerify`; nil for EC and EdDSA keys.
enum RSAPadding: Sendable {
    /// RSASSA-PKCS1-v1_5 (RS256/384/512).
    case pkcs1
    /// RSASSA-PSS with MGF1 over the signature digest and a salt as long as the digest (PS256/384/512, RFC 7518 §3.5).
    case pss
}

extension JWSAlgorithm.Digest {
    /// The OpenSSL digest name for `EVP_DigestVerifyInit_ex`.
    var openSSLName: String {
        switch self {
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }

    /// The built-in `EVP_MD`, for the one-shot `HMAC()`.
    var messageDigest: OpaquePointer {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }
}

extension EVPKey {
    /// Verifies `signature` (DER for ECDSA) over `message` with a fresh context.
    /// `digest` nil means the algorithm hashes internally (Ed25519).
    func verify(signature: UnsafeRawBufferPointer, message: ArraySlice<UInt8>, digest: JWSAlgorithm.Digest?, padding: RSAPadding?) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit_ex(context, &keyContext, digest?.openSSLName, nil, nil, pointer, nil) == 1,
            Self.configure(keyContext, padding: padding)
        else {
            OpenSSLErrorQueue.clear()
            return false
        }
        let status = message.withUnsafeBufferPointer { input in
            EVP_DigestVerify(
                context,
                signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
                input.baseAddress, input.count
            )
        }
        // 1 is the only success; 0 is a bad signature and negative values are errors.
        if status == 1 { return true }
        OpenSSLErrorQueue.clear()
        return false
    }

    /// Signs `message`; ECDSA signatures come back DER-encoded.
    func sign(message: [UInt8], digest: JWSAlgorithm.Digest?, padding: RSAPadding?) throws(SigningError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw SigningError.openSSL("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit_ex(context, &keyContext, digest?.openSSLName, nil, nil, pointer, nil) == 1 else {
            throw SigningError.openSSL("EVP_DigestSignInit_ex")
        }
        guard Self.configure(keyContext, padding: padding) else { throw SigningError.openSSL("setting RSA padding") }
        return try message.withUnsafeBufferPointer { input throws(SigningError) -> [UInt8] in
            var length = 0
            guard EVP_DigestSign(context, nil, &length, input.baseAddress, input.count) == 1 else {
                throw SigningError.openSSL("EVP_DigestSign (size)")
            }
            var output = [UInt8](repeating: 0, count: length)
            let status = output.withUnsafeMutableBufferPointer {
                EVP_DigestSign(context, $0.baseAddress, &length, input.baseAddress, input.count)
            }
            guard status == 1 else { throw SigningError.openSSL("EVP_DigestSign") }
            return Array(output[0..<length])
        }
    }

    static func configure(_ keyContext: OpaquePointer?, padding: RSAPadding?) -> Bool {
        guard let padding else { return true }
        guard let keyContext else { return false }
        switch padding {
        case .pkcs1:
            return EVP_PKEY_CTX_set_rsa_padding(keyContext, Int32(VETO_OPENSSL_RSA_PKCS1_PADDING)) == 1
        case .pss:
            // MGF1 defaults to the signature digest, as RFC 7518 §3.5 requires.
            return EVP_PKEY_CTX_set_rsa_padding(keyContext, Int32(VETO_OPENSSL_RSA_PKCS1_PSS_PADDING)) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, Int32(VETO_OPENSSL_RSA_PSS_SALTLEN_DIGEST)) == 1
        }
    }
}
