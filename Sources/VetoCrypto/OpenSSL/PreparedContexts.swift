internal import COpenSSL
import VetoCore

/// A `EVP_DigestVerify` context set up once per key (algorithm fetched, key attached, padding
/// set) and copied for each verification. OpenSSL 3 fetches the digest and the signature
/// implementation by name on every `EVP_DigestVerifyInit_ex`; copying a ready context skips that,
/// which saves more than a tenth of an RSA-2048 verification (README "Performance").
///
/// - `@unchecked Sendable`: the template is never used for an operation, only read by
///   `EVP_MD_CTX_copy_ex` (its source is `const`), so concurrent copies are safe.
final class PreparedVerifyContext: @unchecked Sendable {
    private let template: OpaquePointer

    /// Nil if OpenSSL cannot set the context up; callers then build a fresh one per call.
    init?(key: EVPKey, digest: JWSAlgorithm.Digest?, padding: RSAPadding?) {
        guard let context = EVP_MD_CTX_new() else { return nil }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit_ex(context, &keyContext, digest?.openSSLName, nil, nil, key.pointer, nil) == 1,
            EVPKey.configure(keyContext, padding: padding)
        else {
            EVP_MD_CTX_free(context)
            OpenSSLErrorQueue.clear()
            return nil
        }
        template = context
    }

    deinit {
        EVP_MD_CTX_free(template)
    }

    /// Whether `signature` verifies over `message`; nil when the context could not be copied.
    func verify(signature: UnsafeRawBufferPointer, message: ArraySlice<UInt8>) -> Bool? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_MD_CTX_copy_ex(context, template) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        // The copy is used once: let the final step use it in place instead of duplicating it again.
        EVP_MD_CTX_set_flags(context, Int32(EVP_MD_CTX_FLAG_FINALISE))
        let status = message.withUnsafeBufferPointer { input in
            EVP_DigestVerify(
                context, signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
                input.baseAddress, input.count)
        }
        if status == 1 { return true }
        OpenSSLErrorQueue.clear()
        return false
    }
}

/// An HMAC context with the secret already keyed in (the inner and outer pads hashed), copied
/// for each MAC instead of fetching HMAC and the digest and keying again every time.
///
/// - `@unchecked Sendable`: the template is only read by `EVP_MAC_CTX_dup` (its source is `const`).
final class PreparedMACContext: @unchecked Sendable {
    private let template: OpaquePointer

    init?(secret: [UInt8], digest: JWSAlgorithm.Digest) {
        guard let mac = Self.hmac, let context = EVP_MAC_CTX_new(mac) else { return nil }
        let keyed = digest.openSSLName.withCString { name in
            "digest".withCString { key in
                var parameters = [
                    OSSL_PARAM_construct_utf8_string(key, UnsafeMutablePointer(mutating: name), 0),
                    OSSL_PARAM_construct_end()
                ]
                return secret.withUnsafeBufferPointer { bytes in
                    EVP_MAC_init(context, bytes.baseAddress, bytes.count, &parameters)
                }
            }
        }
        guard keyed == 1 else {
            EVP_MAC_CTX_free(context)
            OpenSSLErrorQueue.clear()
            return nil
        }
        template = context
    }

    deinit {
        EVP_MAC_CTX_free(template)
    }

    /// The MAC of `message`; nil if OpenSSL fails.
    func mac(_ message: ArraySlice<UInt8>, length: Int) -> [UInt8]? {
        guard let context = EVP_MAC_CTX_dup(template) else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        defer { EVP_MAC_CTX_free(context) }
        var written = 0
        let output = [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { buffer, initialized in
            let updated = message.withUnsafeBufferPointer { EVP_MAC_update(context, $0.baseAddress, $0.count) }
            if updated == 1, EVP_MAC_final(context, buffer.baseAddress, &written, buffer.count) == 1 {
                initialized = written
            } else {
                initialized = 0
            }
        }
        guard output.count == length else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return output
    }

    /// Fetched once; OpenSSL's fetched methods are immutable and shared by all threads.
    nonisolated(unsafe) private static let hmac: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)
}
