/// Why a byte sequence is not the strict JSON that JOSE requires.
package struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidUTF8
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString
        case invalidNumber
        case duplicateMember(String)
        case tooDeep(limit: Int)
        case tooManyMembers(limit: Int)
        case trailingData
        case notAnObject
    }

    package let kind: Kind
    /// Byte offset into the decoded JSON text where the problem was found.
    package let offset: Int

    package init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    package var description: String {
        switch kind {
        case .unexpectedEnd: return "the JSON ends early (at byte \(offset))"
        case let .unexpectedByte(byte):
            if (0x21...0x7E).contains(byte) {
                return "unexpected '\(Character(Unicode.Scalar(byte)))' at byte \(offset)"
            }
            return "unexpected byte 0x\(String(byte, radix: 16, uppercase: true)) at byte \(offset)"
        case .invalidUTF8: return "invalid UTF-8 at byte \(offset)"
        case .invalidEscape: return "invalid escape sequence at byte \(offset)"
        case .loneSurrogate: return "an unpaired UTF-16 surrogate escape at byte \(offset)"
        case .controlCharacterInString: return "an unescaped control character in a string at byte \(offset)"
        case .invalidNumber: return "an invalid number at byte \(offset)"
        case let .duplicateMember(name): return "the member name \"\(name)\" appears twice (byte \(offset))"
        case let .tooDeep(limit): return "nesting deeper than \(limit) levels at byte \(offset)"
        case let .tooManyMembers(limit): return "more than \(limit) members or elements in one object or array at byte \(offset)"
        case .trailingData: return "data after the JSON value at byte \(offset)"
        case .notAnObject: return "the JSON is not an object"
        }
    }
}
