import Foundation
import VetoCore
import Yams

/// Reads secrets from files: trailing line breaks are dropped, nothing else is changed.
package enum SecretSource {
    package static func file(_ path: String, field: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(field, "cannot read \(path)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw ConfigurationError(field, "\(path) is empty") }
        return text
    }
}
