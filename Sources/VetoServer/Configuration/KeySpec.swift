import Foundation
import VetoCore
import Yams

/// `[ALG:]FILE` key arguments, with relative paths resolved against a base directory.
package enum KeySpec {
    package static func resolve(_ spec: String, base: String, field: String) throws -> String {
        if let colon = spec.firstIndex(of: ":"), let algorithm = JWSAlgorithm(rawValue: String(spec[..<colon])) {
            return "\(algorithm.rawValue):" + absolute(String(spec[spec.index(after: colon)...]), base: base)
        }
        return absolute(spec, base: base)
    }

    static func absolute(_ path: String, base: String) -> String {
        path.hasPrefix("/") || base.isEmpty ? path : base + "/" + path
    }
}
