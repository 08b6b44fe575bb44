import Foundation
import VetoCore
import VetoCrypto

/// Loads `--key [ALG:]FILE` and `--jwks FILE` arguments into pinned verification keys.
enum KeyFiles {
    /// Splits "RS256:keys/pub.pem" into its algorithm and path. A prefix that is not an algorithm
    /// name is part of the path (paths may contain ':').
    static func split(_ spec: String) throws -> (JWSAlgorithm?, String) {
        guard let colon = spec.firstIndex(of: ":") else { return (nil, spec) }
        let prefix = String(spec[..<colon])
        if let algorithm = JWSAlgorithm(rawValue: prefix) { return (algorithm, String(spec[spec.index(after: colon)...])) }
        if let algorithm = JWSAlgorithm.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(prefix) == .orderedSame }) {
            throw UsageFailure(
                "\"\(prefix)\" in --key \(spec): algorithm names are case-sensitive; write \(algorithm.rawValue):\(spec[spec.index(after: colon)...])."
            )
        }
        if prefix.lowercased() == "none" { throw UsageFailure("--key \(spec): \"none\" is not an algorithm a key can be pinned to.") }
        if prefix.count <= 6, prefix.allSatisfy({ $0.isLetter || $0.isNumber }), !FileManager.default.fileExists(atPath: spec) {
            throw UsageFailure(
                "--key \(spec): \"\(prefix)\" is not a supported algorithm (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
        return (nil, spec)
    }

    static func read(_ path: String, option: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw UsageFailure("\(option) \(path): \(isDirectory.boolValue ? "is a directory" : "cannot be read (permissions?)").")
            }
            throw UsageFailure("\(option) \(path): no such file.")
        }
        return [UInt8](data)
    }

    /// Loads every key; a refused key stops the command with the loader's message.
    static func load(keys: [String], jwks: [String], warn: (String) -> Void) throws -> [VerificationKey] {
        var loaded: [VerificationKey] = []
        for spec in keys {
            let (algorithm, path) = try split(spec)
            let bytes = try read(path, option: "--key")
            loaded.append(contentsOf: try load(bytes, source: path, algorithm: algorithm, warn: warn))
        }
        for path in jwks {
            let bytes = try read(path, option: "--jwks")
            loaded.append(contentsOf: try load(bytes, source: path, algorithm: nil, warn: warn))
        }
        return loaded
    }

    private static func load(_ bytes: [UInt8], source: String, algorithm: JWSAlgorithm?, warn: (String) -> Void) throws -> [VerificationKey] {
        do {
            let result = try KeyLoader.verificationKeys(from: bytes, source: source, algorithm: algorithm)
            for skipped in result.skipped { warn("\(source): \(skipped)") }
            return result.keys
        } catch {
            throw UsageFailure("cannot use key \(error)")
        }
    }
}
