/// Strict base64url (RFC 7515 §2, RFC 4648 §5): no padding, no characters outside the
/// URL-safe alphabet, no whitespace, and the unused trailing bits of the last symbol must be zero.
///
/// Strictness matters for a revocation service: two spellings of the same signature would
/// otherwise give two different token digests for one token.
public enum Base64URL {
    public enum DecodingError: Error, Equatable, Sendable {
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
    public static func decode<C: Collection>(_ input: C) throws(DecodingError) -> [UInt8] where C.Element == UInt8 {
        let count = input.count
        var output = [UInt8]()
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var offset = 0
        var lastValue: UInt8 = 0
        for byte in input {
            let value = decodeTable[Int(byte)]
            if value == 0xFF { throw .invalidCharacter(offset: offset, byte: byte) }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
            lastValue = value
            offset += 1
        }
        if count % 4 == 1 { throw .invalidLength(count) }
        // Leftover bits (2 or 4) must be zero, or the encoding is not canonical.
        if bits > 0 && (lastValue & UInt8((1 << bits) - 1)) != 0 { throw .nonZeroTrailingBits }
        return output
    }

    public static func decode(_ string: String) throws(DecodingError) -> [UInt8] {
        try decode(Array(string.utf8))
    }

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encodeBytes(bytes), as: UTF8.self)
    }

    public static func encodeBytes<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
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
    public var description: String {
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
