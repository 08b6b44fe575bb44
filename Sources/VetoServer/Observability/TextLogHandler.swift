import Glibc
import Logging
import VetoCore

/// One line per record on stderr, laid out as swift-log's `StreamLogHandler` lays it out:
///
///     2024-04-06T11:00:00+0000 info veto: code=signature_invalid sub="a b" [VetoServer] denied
///
/// Unlike it, every part of the line (message, metadata keys and values, label) is escaped with
/// `ControlCharacters`: a value from a refused token cannot break the line, forge another record,
/// put a NUL in the file or send terminal sequences to whoever tails it. A value that is empty or
/// holds a space, `=` or `"` is quoted, so it cannot pass for another `key=value`.
struct TextLogHandler: EscapingLogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info
    let label: String

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    /// The whole line, newline included.
    static func line(_ event: LogEvent, label: String, metadata: Logger.Metadata, timestamp: String) -> String {
        var line = timestamp + " " + event.level.rawValue
        if !label.isEmpty { line += " " + ControlCharacters.escaped(label) }
        line += ":"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " " + field(key) + "=" + field(LogMetadata.text(value))
        }
        line += " [" + ControlCharacters.escaped(event.source) + "] " + ControlCharacters.escaped(event.message.description) + "\n"
        return line
    }

    /// A key or value: escaped, and quoted when it is empty or holds a space, `=` or `"`.
    static func field(_ text: String) -> String {
        let escaped = ControlCharacters.escaped(text)
        guard escaped.isEmpty || escaped.utf8.contains(where: { $0 == 0x20 || $0 == 0x3D || $0 == 0x22 }) else { return escaped }
        var quoted = "\""
        for character in escaped.unicodeScalars {
            if character == "\"" { quoted += "\\\"" } else { quoted.unicodeScalars.append(character) }
        }
        return quoted + "\""
    }

    /// Local time, as StreamLogHandler writes it: `2024-04-06T13:00:00+0200`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A handler that writes each record as one escaped line on stderr: the two formats differ only in
/// `line` and `timestamp`.
protocol EscapingLogHandler: LogHandler {
    var label: String { get }
    static func line(_ event: LogEvent, label: String, metadata: Logger.Metadata, timestamp: String) -> String
    static func timestamp() -> String
}

extension EscapingLogHandler {
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        StandardError.write(
            Self.line(
                event, label: label, metadata: LogMetadata.effective(metadata, provider: metadataProvider, event: event),
                timestamp: Self.timestamp()))
    }
}

/// What both handlers share: the metadata of one record, and how a value reads as text.
enum LogMetadata {
    /// The handler's metadata, then the provider's, then the call's, and the error's (as swift-log merges them).
    static func effective(_ base: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> Logger.Metadata {
        var metadata = base
        if let provided = provider?.get(), !provided.isEmpty { metadata.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty { metadata.merge(explicit) { $1 } }
        if let error = event.error {
            metadata["error.message"] = .string("\(error)")
            metadata["error.type"] = .string(String(reflecting: type(of: error)))
        }
        return metadata
    }

    /// A value as text: strings as they are, lists as `[a, b]`, dictionaries as `[k: v]` (keys sorted).
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(string): string
        case let .stringConvertible(convertible): convertible.description
        case let .array(values): "[" + values.map(text).joined(separator: ", ") + "]"
        case let .dictionary(dictionary):
            "[" + dictionary.sorted { $0.key < $1.key }.map { "\($0.key): \(text($0.value))" }.joined(separator: ", ") + "]"
        }
    }
}

/// Whole lines to stderr, each in one `write(2)` where the kernel allows, so lines from several
/// threads do not interleave.
enum StandardError {
    static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
