internal import COpenSSL

/// Builds an `EVP_PKEY` from named components with `OSSL_PARAM_BLD` and `EVP_PKEY_fromdata`.
///
/// `OSSL_PARAM_BLD` keeps pointers to pushed values, and to the parameter names themselves,
/// until `OSSL_PARAM_BLD_to_param`. A Swift string passed as `const char *` lives only for the
/// call, so this class copies every name and value into buffers it owns until it is released.
final class KeyParameters {
    private let builder: OpaquePointer
    private var numbers: [OpaquePointer] = []
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    private var failed = false

    init?() {
        guard let builder = OSSL_PARAM_BLD_new() else { return nil }
        self.builder = builder
    }

    deinit {
        OSSL_PARAM_BLD_free(builder)
        // Components may be private key material: wipe before freeing.
        for number in numbers { BN_clear_free(number) }
        for buffer in buffers {
            OPENSSL_cleanse(buffer.baseAddress, buffer.count)
            buffer.deallocate()
        }
    }

    /// An unsigned big-endian integer component (RSA n, e, d…, EC private scalar).
    func pushBigNumber(_ name: String, _ bytes: [UInt8]) {
        guard let number = BigNumber.make(bytes) else { failed = true; return }
        numbers.append(number)
        if OSSL_PARAM_BLD_push_BN(builder, cName(name), number) != 1 { failed = true }
    }

    /// A UTF-8 string component such as the EC group name.
    func pushString(_ name: String, _ value: String) {
        let bytes = Array(value.utf8) + [0]
        let buffer = copy(bytes)
        if OSSL_PARAM_BLD_push_utf8_string(builder, cName(name), buffer.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count - 1) != 1 {
            failed = true
        }
    }

    /// An octet-string component such as an encoded EC point.
    func pushOctets(_ name: String, _ bytes: [UInt8]) {
        let buffer = copy(bytes)
        if OSSL_PARAM_BLD_push_octet_string(builder, cName(name), buffer.baseAddress, bytes.count) != 1 { failed = true }
    }

    /// Creates the key; nil on failure, with the reason left on OpenSSL's error queue.
    /// `selection` is `VETO_OPENSSL_SELECT_PUBLIC_KEY` or `VETO_OPENSSL_SELECT_KEYPAIR`.
    func makeKey(type: String, selection: Int32) -> EVPKey? {
        guard !failed, let parameters = OSSL_PARAM_BLD_to_param(builder) else { return nil }
        defer { OSSL_PARAM_free(parameters) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_fromdata_init(context) == 1 else { return nil }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_fromdata(context, &key, selection, parameters) == 1, let key else { return nil }
        return EVPKey(taking: key)
    }

    /// A NUL-terminated copy of `name` that outlives the builder's use of it.
    private func cName(_ name: String) -> UnsafePointer<CChar>? {
        UnsafePointer(copy(Array(name.utf8) + [0]).baseAddress?.assumingMemoryBound(to: CChar.self))
    }

    private func copy(_ bytes: [UInt8]) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        buffers.append(buffer)
        return buffer
    }
}
