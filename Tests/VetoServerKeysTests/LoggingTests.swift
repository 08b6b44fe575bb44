import Logging
import Testing
import VetoCore

@testable import VetoServer

/// Security finding 7 (log injection): both log formats escape every value.
@Suite struct LoggingTests {
    static let forged = "alice\n2024-04-06T11:00:00+0000 critical veto: [VetoServer] ADMIN TOKEN ACCEPTED\u{0}\u{1B}[2K\u{9B}1A\u{202E}\u{2028}"

    static func event(_ message: String = "denied") -> LogEvent {
        LogEvent(level: .info, message: "\(message)", metadata: nil, source: "VetoServer", file: #fileID, function: #function, line: #line)
    }

    @Test func finding07_textLinesEscapeMessageKeysAndValues() {
        let metadata: Logger.Metadata = [
            "sub": .string(Self.forged), "jti": .string("j1 code=allowed"), "code": .string("signature_invalid"),
            "k\ney": .string(""), "list": .array([.string("a\u{85}"), .string("b")])
        ]
        let line = TextLogHandler.line(Self.event("denied \u{1B}[31m"), label: "veto", metadata: metadata, timestamp: "2024-04-06T11:00:00+0000")
        #expect(line.hasSuffix("\n"))
        #expect(!line.dropLast().unicodeScalars.contains { ControlCharacters.isUnsafe($0) }, "\(line)")
        #expect(line.hasPrefix("2024-04-06T11:00:00+0000 info veto: code=signature_invalid jti=\"j1 code=allowed\" k\\ney=\"\" "))
        #expect(
            line.contains(
                #"sub="alice\n2024-04-06T11:00:00+0000 critical veto: [VetoServer] ADMIN TOKEN ACCEPTED\u{0}\u{1b}[2K\u{9b}1A\u{202e}\u{2028}""#))
        #expect(line.contains(#"list="[a\u{85}, b]""#))
        #expect(line.hasSuffix(#"[VetoServer] denied \u{1b}[31m"# + "\n"))
        // A quote inside a value is escaped: the value cannot end early and start a key of its own.
        #expect(TextLogHandler.field(#"x" code="allowed"#) == #""x\" code=\"allowed""#)
        #expect(TextLogHandler.field("plain") == "plain")
    }

    @Test func finding07_jsonLinesEscapeC1AndBidiAndKeepTheValues() throws {
        let metadata: Logger.Metadata = ["sub": .string(Self.forged), "msg": .string("not the message"), "exp": .stringConvertible(1712400000)]
        let line = JSONLogHandler.line(Self.event(), label: "veto", metadata: metadata, timestamp: "2024-04-06T11:00:00.000Z")
        #expect(line.hasSuffix("}\n"))
        #expect(!line.dropLast().unicodeScalars.contains { ControlCharacters.isUnsafe($0) }, "\(line)")
        let object = try #require(try JSONReader().parse(Array(line.dropLast().utf8)).objectValue)
        #expect(object["sub"]?.stringValue == Self.forged)
        #expect(object["msg"]?.stringValue == "denied")  // the record's own fields win
        #expect(object["exp"]?.stringValue == "1712400000")
        #expect(object.names == ["exp", "label", "level", "msg", "sub", "ts"])
    }
}
