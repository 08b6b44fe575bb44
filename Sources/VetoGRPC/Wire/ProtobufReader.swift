/// Protocol Buffers wire format read in place: tags, varints, length-delimited fields, and skipping
/// any field (groups too) while checking that it is well formed.
struct ProtobufReader {
    enum Failure: Error, Equatable {
        /// Not valid wire format: a truncated field, a bad tag, an overlong varint, unbalanced groups.
        case malformed
        /// A `string` field that is not UTF-8 (proto3 requires it).
        case invalidUTF8
    }

    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// Nesting allowed for groups, as SwiftProtobuf's default recursion limit.
    static let maxDepth = 100

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func readVarint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if shift == 63, byte > 1 { throw .malformed }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .malformed }
        }
        throw .malformed
    }

    /// The next field's number and wire type.
    mutating func readTag() throws(Failure) -> (field: Int, wireType: WireType) {
        let key = try readVarint()
        guard key <= UInt64(UInt32.max), let wireType = WireType(rawValue: UInt8(key & 7)) else { throw .malformed }
        let field = Int(key >> 3)
        guard field > 0 else { throw .malformed }
        return (field, wireType)
    }

    /// The payload of a length-delimited field (its tag already read).
    mutating func readLengthDelimited() throws(Failure) -> UnsafeRawBufferPointer {
        let length = try readVarint()
        guard length <= UInt64(bytes.count - position) else { throw .malformed }
        let start = position
        position += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<position])
    }

    /// Skips the value of a field whose tag was just read.
    mutating func skip(field: Int, wireType: WireType, depth: Int = 0) throws(Failure) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try readLengthDelimited()
        case .endGroup: throw .malformed
        case .startGroup:
            guard depth < Self.maxDepth else { throw .malformed }
            while true {
                let (inner, innerType) = try readTag()
                if innerType == .endGroup {
                    guard inner == field else { throw .malformed }
                    return
                }
                try skip(field: inner, wireType: innerType, depth: depth + 1)
            }
        }
    }

    private mutating func advance(_ count: Int) throws(Failure) {
        guard bytes.count - position >= count else { throw .malformed }
        position += count
    }

    /// A `string` field's bytes, checked to be UTF-8 (ASCII, nearly always, eight bytes at a time).
    static func validatedUTF8(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> UnsafeRawBufferPointer {
        var index = 0
        var high: UInt64 = 0
        while index + 8 <= bytes.count {
            high |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            high |= UInt64(bytes[index])
            index += 1
        }
        if high & 0x8080_8080_8080_8080 != 0, String(validating: bytes, as: UTF8.self) == nil { throw .invalidUTF8 }
        return bytes
    }
}
