/// Characters that must never reach a terminal or a log line raw, because they change how the
/// text around them is shown or split: C0 controls (line breaks, ESC, NUL), DEL, C1 controls
/// (U+0080–U+009F, among them CSI U+009B and NEL U+0085), the Unicode bidirectional controls
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators
/// U+2028 and U+2029.
///
/// Token contents are attacker-chosen: a `sub` with a line feed forges a log line, a `kid` with
/// ESC sequences rewrites a terminal, a bidi override reorders what a reader sees.
package enum ControlCharacters {
    /// Whether `scalar` is one of the characters above.
    @inlinable
    package static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || (0x7F...0x9F).contains(value) { return true }
        if value < 0x061C { return false }
        return value == 0x061C || value == 0x200E || value == 0x200F || (0x2028...0x202E).contains(value)
            || (0x2066...0x2069).contains(value)
    }

    /// Whether a UTF-8 byte may start one of the characters above (or is a backslash, which the
    /// escaped form must double): a cheap pre-scan, so most strings are copied whole.
    static func mayNeedEscaping(_ byte: UInt8) -> Bool {
        // C0 and DEL; 0xC2 leads U+0080–U+00BF (C1), 0xD8 leads U+061C, 0xE2 leads U+2000–U+2FFF.
        byte < 0x20 || byte == 0x5C || byte == 0x7F || byte == 0xC2 || byte == 0xD8 || byte == 0xE2
    }

    /// Whether `escaped(text)` would differ from `text`.
    package static func needsEscaping(_ text: String) -> Bool {
        if let answer = text.utf8.withContiguousStorageIfAvailable({ $0.contains(where: mayNeedEscaping) }), !answer { return false }
        return text.unicodeScalars.contains { $0 == "\\" || isUnsafe($0) }
    }

    /// `text` with every character above written as a visible escape: `\n`, `\r`, `\t`, and
    /// `\u{1b}` (Swift's spelling, lower-case hex) for the others. A backslash becomes `\\`, so the
    /// escaped form reads back unambiguously.
    /// - Parameter keeping: characters left as they are (for instance "\n" in a multi-line message).
    package static func escaped(_ text: String, keeping: Set<Unicode.Scalar> = []) -> String {
        guard needsEscaping(text) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if keeping.contains(scalar) {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if isUnsafe(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
