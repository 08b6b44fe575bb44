/// Serialises a `JSONValue`, keeping member order and number text as read.
public enum JSONWriter {
    /// Compact JSON, as used in a JWS header or payload.
    public static func compact(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: nil, level: 0)
        return out
    }

    /// Indented JSON for people, two spaces a level.
    public static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: "  ", level: 0)
        return out
    }

    public static func quoted(_ string: String) -> String {
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
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Whether `writeString` would change anything: quotes, backslashes, control characters, DEL,
    /// U+2028 and U+2029 (UTF-8 E2 80 A8/A9). Most strings need nothing and are copied whole.
    public static func needsEscaping(_ string: String) -> Bool {
        if let answer = string.utf8.withContiguousStorageIfAvailable({ needsEscaping(bytes: $0) }) { return answer }
        return string.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }
    }

    static func needsEscaping(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xE2 {
            // 0xE2 starts U+2028/U+2029, but also many harmless characters: let the slow path decide.
            return true
        }
        return false
    }
}
