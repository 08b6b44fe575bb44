internal import COpenSSL

/// Conversions between unsigned big-endian bytes and OpenSSL `BIGNUM`s.
enum BigNumber {
    /// A new `BIGNUM` the caller must free, or nil when OpenSSL cannot allocate one.
    static func make(_ bytes: [UInt8]) -> OpaquePointer? {
        bytes.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
    }

    /// The value's minimal big-endian bytes, or left-padded to `length` (nil if it does not fit).
    static func bytes(of number: OpaquePointer, paddedTo length: Int? = nil) -> [UInt8]? {
        let minimal = Int((BN_num_bits(number) + 7) / 8)
        let count = length ?? minimal
        guard count >= minimal else { return nil }
        var output = [UInt8](repeating: 0, count: count)
        let written = output.withUnsafeMutableBufferPointer {
            BN_bn2binpad(number, $0.baseAddress, Int32(count))
        }
        guard written == Int32(count) else { return nil }
        return output
    }
}
