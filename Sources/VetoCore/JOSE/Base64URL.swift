/// Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no characters outside the
/// URL-safe alphabet, no whitespace, and the unused trailing bits of the last symbol must be zero.
///
/// Strictness matters for a revocation service: two spellings of the same signature would
/// otherwise give two different token digests for one token.
package enum Base64URL {
    package enum DecodingError: Error, Equatable, Sendable {
        /// A byte outside `A–Z a–z 0–9 - _` at this offset (padding `=` and `+ /` included).
        case invalidCharacter(offset: Int, byte: UInt8)
        /// A length of 4k+1 characters cannot encode whole bytes.
        case invalidLength(Int)
        /// The last symbol carries non-zero bits beyond the encoded bytes.
        case nonZeroTrailingBits
    }

    @usableFromInline
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    static let encodeTable: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Decodes strictly; `offset` in errors is relative to the start of `input`.
    package static func decode<C: Collection>(_ input: C) throws(DecodingError) -> [UInt8] where C.Element == UInt8 {
        let result =
            input.withContiguousStorageIfAvailable { decode(buffer: $0) }
            ?? Array(input).withUnsafeBufferPointer { decode(buffer: $0) }
        return try result.get()
    }

    /// Four symbols at a time into an output of exactly the right size; the first invalid byte
    /// (if any) is located afterwards, so the error is the same as a byte-by-byte decoder's.
    static func decode(buffer input: UnsafeBufferPointer<UInt8>) -> Result<[UInt8], DecodingError> {
        let count = input.count
        let remainder = count % 4
        let outputCount = count / 4 * 3 + (remainder == 3 ? 2 : remainder == 2 ? 1 : 0)
        var invalid = false
        let output = decodeTable.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outputCount) { out, initialized in
                var source = 0
                var target = 0
                while source + 4 <= count {
                    let a = table[Int(input[source])], b = table[Int(input[source + 1])]
                    let c = table[Int(input[source + 2])], d = table[Int(input[source + 3])]
                    if (a | b | c | d) & 0x80 != 0 { invalid = true; break }
                    let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[target] = UInt8(truncatingIfNeeded: word >> 16)
                    out[target + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    out[target + 2] = UInt8(truncatingIfNeeded: word)
                    source += 4
                    target += 3
                }
                if !invalid && remainder >= 2 {
                    let a = table[Int(input[source])], b = table[Int(input[source + 1])]
                    let c = remainder == 3 ? table[Int(input[source + 2])] : 0
                    if (a | b | c) & 0x80 != 0 {
                        invalid = true
                    } else {
                        let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                        out[target] = UInt8(truncatingIfNeeded: word >> 16)
                        if remainder == 3 { out[target + 1] = UInt8(truncatingIfNeeded: word >> 8) }
                        target += remainder - 1
                    }
                }
                if !invalid && remainder == 1 {
                    invalid = table[Int(input[count - 1])] & 0x80 != 0
                }
                initialized = invalid ? 0 : target
            }
        }
        if invalid || remainder == 1 {
            for offset in 0..<count where decodeTable[Int(input[offset])] == 0xFF {
                return .failure(.invalidCharacter(offset: offset, byte: input[offset]))
            }
            return .failure(.invalidLength(count))
        }
        // Leftover bits (2 or 4) must be zero, or the encoding is not canonical.
        if remainder > 0 {
            let last = decodeTable[Int(input[count - 1])]
            let mask: UInt8 = remainder == 2 ? 0x0F : 0x03
            if last & mask != 0 { return .failure(.nonZeroTrailingBits) }
        }
        return .success(output)
    }

    package static func decode(_ string: String) throws(DecodingError) -> [UInt8] {
        try decode(Array(string.utf8))
    }

    package static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encodeBytes(bytes), as: UTF8.self)
    }

    package static func encodeBytes<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(encodeTable[Int((accumulator >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 {
            output.append(encodeTable[Int((accumulator << UInt32(6 - bits)) & 0x3F)])
        }
        return output
    }
}

extension Base64URL.DecodingError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .invalidCharacter(offset, byte):
            let shown: String
            switch byte {
            case UInt8(ascii: "="): shown = "padding '='"
            case UInt8(ascii: "+"), UInt8(ascii: "/"): shown = "'\(Character(Unicode.Scalar(byte)))' (standard base64, not base64url)"
            case 0x20, 0x09, 0x0A, 0x0D: shown = "whitespace"
            case 0x21...0x7E: shown = "'\(Character(Unicode.Scalar(byte)))'"
            default: shown = "byte 0x\(String(byte, radix: 16, uppercase: true))"
            }
            return "\(shown) at offset \(offset) is not allowed in base64url"
        case let .invalidLength(length):
            return "length \(length) is not a valid base64url length"
        case .nonZeroTrailingBits:
            return "the last character has non-zero trailing bits (not a canonical encoding)"
        }
    }
}
