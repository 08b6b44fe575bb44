import Foundation
import Logging
import VetoCore

/// One JSON object per line on stderr: `{"code":…,"label":…,"level":…,"msg":…,"ts":…}`, keys sorted.
/// Strings are written by `JSONWriter`, which escapes C0, DEL, C1, the bidi controls and U+2028/U+2029
/// as `\uXXXX`: a value from a refused token stays on its line and shows no terminal tricks to
/// whoever reads the log raw.
struct JSONLogHandler: EscapingLogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info
    let label: String

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    /// UTC with milliseconds: `2024-04-06T11:00:00.000Z`.
    static func timestamp() -> String {
        ISO8601DateFormatter.string(
            from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    /// The whole line, newline included. The record's own fields win over metadata of the same name.
    static func line(_ event: LogEvent, label: String, metadata: Logger.Metadata, timestamp: String) -> String {
        var fields: [String: JSONValue] = metadata.mapValues(json)
        fields["ts"] = .string(timestamp)
        fields["level"] = .string(event.level.rawValue)
        fields["msg"] = .string(event.message.description)
        fields["label"] = .string(label)
        return JSONWriter.compact(object(fields)) + "\n"
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case let .string(string): .string(string)
        case let .stringConvertible(convertible): .string(convertible.description)
        case let .array(values): .array(values.map(json))
        case let .dictionary(dictionary): object(dictionary.mapValues(json))
        }
    }

    static func object(_ fields: [String: JSONValue]) -> JSONValue {
        .object(JSONObject(members: fields.sorted { $0.key < $1.key }.map { JSONObject.Member(name: $0.key, value: $0.value) }))
    }
}

/// Log handlers the `veto` executable installs.
package enum VetoLogHandlers {
    package static func json(label: String) -> any LogHandler {
        JSONLogHandler(label: label)
    }

    /// Text lines with every value escaped (see `TextLogHandler`).
    package static func text(label: String) -> any LogHandler {
        TextLogHandler(label: label)
    }
}
