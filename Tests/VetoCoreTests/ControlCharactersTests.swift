import Testing
import VetoCore

/// Security findings 7 (log injection) and 13 (terminal escapes): what `ControlCharacters` and
/// `JSONWriter` let through.
@Suite struct ControlCharactersTests {
    /// Every character a terminal or a line-oriented log reader acts on.
    static let unsafe: [Unicode.Scalar] =
        (0x00...0x1F).map { Unicode.Scalar($0)! } + (0x7F...0x9F).map { Unicode.Scalar($0)! }
        + [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069].map { Unicode.Scalar($0)! }

    @Test func finding13_everyControlCharacterIsEscapedForTheTerminal() {
        for scalar in Self.unsafe {
            let text = "a" + String(Character(scalar)) + "b"
            let escaped = ControlCharacters.escaped(text)
            #expect(!escaped.unicodeScalars.contains { ControlCharacters.isUnsafe($0) }, "U+\(String(scalar.value, radix: 16))")
            #expect(escaped.hasPrefix("a\\") && escaped.hasSuffix("b"))
        }
        #expect(ControlCharacters.escaped("kid\u{1B}]0;title\u{07}\u{9B}2J") == "kid\\u{1b}]0;title\\u{7}\\u{9b}2J")
        #expect(ControlCharacters.escaped("a\nb\r\tc\u{0}") == "a\\nb\\r\\tc\\u{0}")
        #expect(ControlCharacters.escaped("\u{202E}gnp.exe") == "\\u{202e}gnp.exe")
        // A backslash is doubled, so "\n" typed by the token reads differently from a line feed.
        #expect(ControlCharacters.escaped("a\\nb") == "a\\\\nb")
        #expect(ControlCharacters.escaped("a\nb", keeping: ["\n"]) == "a\nb")
    }

    @Test func finding13_harmlessTextIsLeftAlone() {
        for text in ["https://auth.example.com/tenants/café", "Kelvin-api", "用户", "emoji 🔑", "é́", "\u{2030}‰ – “quotes”", "\u{00A0}nbsp", ""] {
            #expect(ControlCharacters.escaped(text) == text)
            #expect(!ControlCharacters.needsEscaping(text))
        }
    }

    @Test func finding13_jsonWriterEscapesC1DelAndBidi() throws {
        for scalar in Self.unsafe {
            let value = "x" + String(Character(scalar))
            let written = JSONWriter.quoted(value)
            #expect(!written.unicodeScalars.contains { ControlCharacters.isUnsafe($0) }, "U+\(String(scalar.value, radix: 16)) written raw")
            #expect(JSONWriter.needsEscaping(value))
            // Escaped, not changed: the JSON reads back as the same string.
            let parsed = try JSONReader().parse(Array("[\(written)]".utf8))
            #expect(parsed.arrayValue?.first?.stringValue == value)
        }
        #expect(JSONWriter.quoted("\u{9B}31m") == "\"\\u009b31m\"")
        #expect(JSONWriter.quoted("\u{202E}") == "\"\\u202e\"")
        #expect(JSONWriter.quoted("café ©") == "\"café ©\"")
    }
}
