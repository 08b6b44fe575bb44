internal import COpenSSL

/// Owns one OpenSSL `EVP_PKEY` and frees it when released.
///
/// `@unchecked Sendable`: the key is fully built before the wrapper is shared and is never
/// mutated afterwards. OpenSSL 3 allows concurrent read-only use of an `EVP_PKEY` as long as each
/// operation has its own `EVP_PKEY_CTX`/`EVP_MD_CTX`, which every caller here creates per call.
/// Keys are built by the provider decoders or `EVP_PKEY_fromdata`, so no lazy legacy export
/// happens on first use.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Takes ownership of `pointer` (one reference).
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// The OpenSSL key type (`VETO_OPENSSL_PKEY_*`).
    var baseID: Int32 { EVP_PKEY_get_base_id(pointer) }

    /// Key size in bits (the modulus for RSA, the field for EC).
    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// Maximum signature size in bytes; for RSA exactly the modulus length.
    var maximumSignatureSize: Int { Int(EVP_PKEY_get_size(pointer)) }

    /// A copy that holds only the public key, re-decoded from its SubjectPublicKeyInfo, so that a
    /// verifier never keeps private material and always holds a provider-native key.
    func publicOnly() -> EVPKey? {
        var der: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_PUBKEY(pointer, &der)
        guard length > 0, let der else { return nil }
        defer { veto_openssl_free(der) }
        var cursor: UnsafePointer<UInt8>? = UnsafePointer(der)
        guard let decoded = d2i_PUBKEY(nil, &cursor, Int(length)) else { return nil }
        return EVPKey(taking: decoded)
    }

    /// A big-number parameter (`OSSL_PKEY_PARAM_*`) as unsigned big-endian bytes, left-padded to `length` when given.
    func bigNumberParameter(_ name: String, paddedTo length: Int? = nil) -> [UInt8]? {
        var number: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(pointer, name, &number) == 1, let number else { return nil }
        defer { BN_clear_free(number) }
        return BigNumber.bytes(of: number, paddedTo: length)
    }

    /// A UTF-8 string parameter such as the EC group name.
    func stringParameter(_ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 80)
        var length = 0
        let status = buffer.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_utf8_string_param(pointer, name, $0.baseAddress, $0.count, &length)
        }
        guard status == 1 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
