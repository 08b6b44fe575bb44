/// Serialises a `JSONValue`, keeping member order and number text as read.
package enum JSONWriter {
    /// Compact JSON, as used in a JWS header or payload.
    package static func compact(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: nil, level: 0)
        return out
    }

    /// Indented JSON for people, two spaces a level.
    package static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: "  ", level: 0)
        return out
    }

    package static func quoted(_ string: String) -> String {
        var out = ""
        writeString(string, into: &out)
        return out
    }

    static func write(_ value: JSONValue, into out: inout String, indent: String?, level: Int) {
        switch value {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .number(number): out += number.text
        case let .string(string): writeString(string, into: &out)
        case let .array(elements):
            if elements.isEmpty { out += "[]"; return }
            out += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { out += "," }
                newline(into: &out, indent: indent, level: level + 1)
                write(element, into: &out, indent: indent, level: level + 1)
            }
            newline(into: &out, indent: indent, level: level)
            out += "]"
        case let .object(object):
            if object.isEmpty { out += "{}"; return }
            out += "{"
            for (position, member) in object.members.enumerated() {
                if position > 0 { out += "," }
                newline(into: &out, indent: indent, level: level + 1)
                writeString(member.name, into: &out)
                out += indent == nil ? ":" : ": "
                write(member.value, into: &out, indent: indent, level: level + 1)
            }
            newline(into: &out, indent: indent, level: level)
            out += "}"
        }
    }

    static func newline(into out: inout String, indent: String?, level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    static func writeString(_ string: String, into out: inout String) {
        if !needsEscaping(string) {
            out += "\""
            out += string
            out += "\""
            return
        }
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if ControlCharacters.isUnsafe(scalar) {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Whether `writeString` would change anything: quotes, backslashes, and every character of
    /// `ControlCharacters` (C0, DEL, C1, bidi controls, U+2028/U+2029), written as `\uXXXX` so that
    /// JSON shown on a terminal or read into a log stays inert. Most strings need nothing and are
    /// copied whole.
    package static func needsEscaping(_ string: String) -> Bool {
        if let answer = string.utf8.withContiguousStorageIfAvailable({ needsEscaping(bytes: $0) }) { return answer }
        return string.utf8.contains(where: mayNeedEscaping)
    }

    static func needsEscaping(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where mayNeedEscaping(byte) {
            // 0xC2, 0xD8 and 0xE2 start C1 and bidi controls, but also many harmless characters:
            // let the slow path decide.
            return true
        }
        return false
    }

    /// Quote, backslash, C0, DEL, and the lead bytes of C1 (0xC2), U+061C (0xD8), and U+200E–U+2069 (0xE2).
    static func mayNeedEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xC2 || byte == 0xD8 || byte == 0xE2
    }
}
