import Foundation
import VetoCore
import Yams

/// Walks one YAML mapping, remembering which keys were read so that leftovers can be reported.
struct Reader {
    let map: [String: Any]
    let path: String
    let base: String
    let environment: [String: String]
    var seen: Set<String> = []

    init(_ value: Any, path: String, base: String, environment: [String: String]) throws {
        guard let map = value as? [String: Any] else { throw ConfigurationError(path, "must be a mapping of keys to values") }
        self.map = map
        self.path = path
        self.base = base
        self.environment = environment
    }

    func field(_ key: String) -> String { path == "config" ? key : "\(path).\(key)" }

    mutating func raw(_ key: String) -> Any? {
        seen.insert(key)
        guard let value = map[key], !(value is NSNull) else { return nil }
        return value
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = raw(key) else { return nil }
        if let string = value as? String { return string }
        if let number = value as? Int { return String(number) }
        throw ConfigurationError(field(key), "must be a string")
    }

    mutating func strings(_ key: String) throws -> [String]? {
        guard let value = raw(key) else { return nil }
        if let string = value as? String { return [string] }
        guard let list = value as? [Any], let strings = list as? [String] else { throw ConfigurationError(field(key), "must be a list of strings") }
        return strings
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = raw(key) else { return nil }
        guard let flag = value as? Bool else { throw ConfigurationError(field(key), "must be true or false") }
        return flag
    }

    mutating func number(_ key: String, positive: Bool) throws -> Double? {
        guard let value = raw(key) else { return nil }
        let number: Double
        if let int = value as? Int {
            number = Double(int)
        } else if let double = value as? Double {
            number = double
        } else {
            throw ConfigurationError(field(key), "must be a number")
        }
        guard number.isFinite, positive ? number > 0 : number >= 0 else {
            throw ConfigurationError(field(key), "must be \(positive ? "greater than zero" : "zero or more"), not \(number)")
        }
        return number
    }

    /// A whole number, zero or more.
    mutating func integer(_ key: String) throws -> Int? {
        guard let value = raw(key) else { return nil }
        guard let number = value as? Int, !(value is Bool), number >= 0 else {
            throw ConfigurationError(field(key), "must be a whole number, zero or more")
        }
        return number
    }

    mutating func path(_ key: String) throws -> String? {
        try string(key).map { KeySpec.absolute($0, base: base) }
    }

    mutating func object(_ key: String) throws -> Reader? {
        guard let value = raw(key) else { return nil }
        return try Reader(value, path: field(key), base: base, environment: environment)
    }

    mutating func list(_ key: String) throws -> [Reader] {
        guard let value = raw(key) else { return [] }
        guard let list = value as? [Any] else { throw ConfigurationError(field(key), "must be a list") }
        return try list.enumerated().map { try Reader($1, path: "\(field(key))[\($0)]", base: base, environment: environment) }
    }

    /// String pairs of a mapping, sorted by key for a stable header order.
    mutating func pairs() throws -> [(String, String)] {
        var result: [(String, String)] = []
        for key in map.keys.sorted() {
            guard let value = try string(key) else { continue }
            result.append((key, value))
        }
        return result
    }

    /// A secret given as `NAME_file` (a file's content, trailing newline trimmed) or `NAME_env`
    /// (an environment variable). A plain `NAME` value is refused: secrets stay out of config files.
    mutating func secret(_ name: String) throws -> String? {
        if map[name] != nil {
            seen.insert(name)
            throw ConfigurationError(field(name), "secrets are not written in the config file; use \(name)_file or \(name)_env")
        }
        if let file = try path("\(name)_file") {
            return try SecretSource.file(file, field: field("\(name)_file"))
        }
        if let variable = try string("\(name)_env") {
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigurationError(field("\(name)_env"), "environment variable \(variable) is not set")
            }
            return value
        }
        return nil
    }

    func finish() throws {
        let unknown = Set(map.keys).subtracting(seen)
        if let first = unknown.sorted().first {
            throw ConfigurationError(field(first), "unknown key (known here: \(seen.sorted().joined(separator: ", ")))")
        }
    }
}
