internal import COpenSSL

/// Converts between the JWS form of an ECDSA signature (r ‖ s, fixed length, RFC 7518 §3.4)
/// and the DER `ECDSA-Sig-Value` that OpenSSL signs and verifies.
enum ECDSASignature {
    /// DER for a raw r ‖ s, or nil when the length is wrong or r or s is outside [1, n−1].
    ///
    /// Written directly (SEQUENCE of two minimal INTEGERs, X.690): the same bytes as
    /// `i2d_ECDSA_SIG`, without two big numbers and a signature object per verification.
    static func der(fromRaw raw: [UInt8], curve: ECCurve) -> [UInt8]? {
        let length = curve.coordinateLength
        guard raw.count == 2 * length else { return nil }
        let r = raw[0..<length]
        let s = raw[length...]
        guard isInRange(r, order: curve.order), isInRange(s, order: curve.order) else { return nil }
        let rInteger = integer(r)
        let sInteger = integer(s)
        let content = rInteger.count + sInteger.count
        var der = [UInt8]()
        der.reserveCapacity(content + 3)
        der.append(0x30)
        if content < 0x80 {
            der.append(UInt8(content))
        } else {
            der.append(0x81)  // content is at most 2 × (2 + 67) bytes: one length byte
            der.append(UInt8(content))
        }
        der.append(contentsOf: rInteger)
        der.append(contentsOf: sInteger)
        return der
    }

    /// A positive big-endian number as a DER INTEGER: no leading zero bytes, except one when the
    /// top bit would otherwise make it negative. `value` is not zero.
    private static func integer(_ value: ArraySlice<UInt8>) -> [UInt8] {
        let digits = value.drop { $0 == 0 }
        let pad = digits.first! & 0x80 != 0
        var out: [UInt8] = [0x02, UInt8(digits.count + (pad ? 1 : 0))]
        if pad { out.append(0) }
        out.append(contentsOf: digits)
        return out
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
