import ArgumentParser
import Foundation
import VetoCore

/// When to colour output.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// ANSI styling that honours `--color`, `NO_COLOR` (no-color.org) and whether stdout is a terminal.
struct Style: Sendable {
    let enabled: Bool

    init(_ choice: ColorChoice) {
        switch choice {
        case .always: enabled = true
        case .never: enabled = false
        case .auto:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            enabled = !noColor && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        }
    }

    private func wrap(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }
    func red(_ text: String) -> String { wrap(text, "31") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func blue(_ text: String) -> String { wrap(text, "34") }
    func magenta(_ text: String) -> String { wrap(text, "35") }
    func cyan(_ text: String) -> String { wrap(text, "36") }
}

/// Text from a token or a store, made safe to print: C0, C1, DEL, bidi controls and U+2028/U+2029
/// are shown as escapes (`\n`, `\u{1b}`), so a `kid` cannot set a window title, clear the screen
/// or print a fake verdict. Apply it to every such value before styling: colours Veto adds itself
/// come after and stay.
enum TerminalText {
    static func safe(_ text: String) -> String { ControlCharacters.escaped(text) }

    /// The same, keeping line feeds: for Veto's own multi-line messages that may quote values.
    static func safeLines(_ text: String) -> String { ControlCharacters.escaped(text, keeping: ["\n"]) }
}

enum StandardStreams {
    /// Prints a message on stderr; control characters other than line feeds are escaped.
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((TerminalText.safeLines(text) + "\n").utf8))
    }

    /// Reads all of stdin as UTF-8, or nil when stdin is a terminal (nothing was piped).
    static func readStandardInput() -> String? {
        if isatty(STDIN_FILENO) == 1 { return nil }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Exits with a message on stderr and a code meaning "could not run" (not "token rejected").
struct UsageFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
    init(_ message: String) { self.message = message }
}

extension String {
    /// Pads with spaces on the right to `width` characters (no truncation).
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
