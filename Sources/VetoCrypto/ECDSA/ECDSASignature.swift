internal import COpenSSL

/// Converts between the JWS form of an ECDSA signature (r ‖ s, fixed length, RFC 7518 §3.4)
/// and the DER `ECDSA-Sig-Value` that OpenSSL signs and verifies.
enum ECDSASignature {
    /// DER for a raw r ‖ s, or nil when the length is wrong or r or s is outside [1, n−1].
    static func der(fromRaw raw: [UInt8], curve: ECCurve) -> [UInt8]? {
        let length = curve.coordinateLength
        guard raw.count == 2 * length else { return nil }
        let r = raw[0..<length]
        let s = raw[length...]
        guard isInRange(r, order: curve.order), isInRange(s, order: curve.order) else { return nil }

        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        guard let rNumber = BigNumber.make(Array(r)) else { return nil }
        guard let sNumber = BigNumber.make(Array(s)) else {
            BN_free(rNumber)
            return nil
        }
        // ECDSA_SIG_set0 takes ownership of both numbers on success.
        guard ECDSA_SIG_set0(signature, rNumber, sNumber) == 1 else {
            BN_free(rNumber)
            BN_free(sNumber)
            return nil
        }
        var der: UnsafeMutablePointer<UInt8>? = nil
        let derLength = i2d_ECDSA_SIG(signature, &der)
        guard derLength > 0, let der else { return nil }
        defer { veto_openssl_free(der) }
        return Array(UnsafeBufferPointer(start: der, count: Int(derLength)))
    }

    /// The raw r ‖ s for a DER signature produced by OpenSSL.
    static func raw(fromDER der: [UInt8], curve: ECCurve) -> [UInt8]? {
        let signature: OpaquePointer? = der.withUnsafeBufferPointer {
            var cursor = $0.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, $0.count)
        }
        guard let signature else { return nil }
        defer { ECDSA_SIG_free(signature) }
        guard let r = ECDSA_SIG_get0_r(signature), let s = ECDSA_SIG_get0_s(signature),
              let rBytes = BigNumber.bytes(of: r, paddedTo: curve.coordinateLength),
              let sBytes = BigNumber.bytes(of: s, paddedTo: curve.coordinateLength)
        else { return nil }
        return rBytes + sBytes
    }

    /// 1 ≤ value ≤ n − 1 for equal-length big-endian byte strings. Values are public: no constant time needed.
    static func isInRange(_ value: ArraySlice<UInt8>, order: [UInt8]) -> Bool {
        guard value.contains(where: { $0 != 0 }) else { return false }
        return value.lexicographicallyPrecedes(order)
    }
}
