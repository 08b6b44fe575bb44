import Foundation
import VetoCore
import Yams

/// Reads the YAML configuration file. Unknown keys are errors (a typo must not silently turn a
/// check off), and every error names the field. Relative paths are relative to the file.
public enum ConfigurationFile {
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("--config", "cannot read \(path)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), baseDirectory: base, environment: environment)
    }

    public static func parse(_ text: String, baseDirectory: String, environment: [String: String]) throws -> ServiceConfiguration {
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError("config", "not valid YAML: \(error)")
        }
        var config = ServiceConfiguration()
        guard let root else { return config }
        var reader = try Reader(root, path: "config", base: baseDirectory, environment: environment)
        if let listen = try reader.string("listen") {
            guard let address = ListenAddress(parsing: listen) else { throw ConfigurationError("listen", "\"\(listen)\" is not HOST:PORT") }
            config.listen = address
        }
        if var redis = try reader.object("redis") {
            if let url = try redis.string("url") {
                guard !RedisURL.hasPassword(url) else {
                    throw ConfigurationError("redis.url", "holds a password; move it to redis.password_file or redis.password_env")
                }
                config.redisURL = url
            } else {
                config.redisURL = try redis.secret("url")
            }
            if let password = try redis.secret("password") {
                guard let url = config.redisURL else { throw ConfigurationError("redis.password", "is set but redis.url is not") }
                config.redisURL = try RedisURL.withPassword(url, password: password, field: "redis.password")
            }
            if let prefix = try redis.string("key_prefix") { config.keyPrefix = prefix }
            if let timeout = try redis.number("command_timeout", positive: true) { config.redisCommandTimeout = timeout }
            config.redisOptions.caFile = try redis.path("ca_file")
            config.redisOptions.certificateFile = try redis.path("cert_file")
            config.redisOptions.keyFile = try redis.path("key_file")
            config.redisOptions.serverName = try redis.string("tls_server_name")
            config.redisOptions.waitReplicas = try redis.number("wait_replicas", positive: false).map { Int($0) }
            config.redisOptions.waitTimeout = try redis.number("wait_timeout", positive: true)
            config.redisOptions.readFrom = try redis.string("read_from")
            try redis.finish()
        }
        config.dataDirectory = try reader.path("data_dir")
        config.adminToken = try reader.secret("admin_token")
        if let failOpen = try reader.bool("fail_open") { config.failOpen = failOpen }
        if let lifetime = try reader.number("max_token_lifetime", positive: true) { config.maxTokenLifetime = lifetime }
        if let threads = try reader.number("threads", positive: true) { config.threads = Int(threads) }
        if let size = try reader.integer("verify_cache_size") {
            guard size <= ServiceConfiguration.maxVerifyCacheSize else {
                throw ConfigurationError("verify_cache_size", "must be at most \(ServiceConfiguration.maxVerifyCacheSize)")
            }
            config.verifyCacheSize = size
        }
        if var log = try reader.object("log") {
            if let format = try log.string("format") {
                guard let value = ServiceConfiguration.LogFormat(rawValue: format) else { throw ConfigurationError("log.format", "\"\(format)\" is not text or json") }
                config.logFormat = value
            }
            if let level = try log.string("level") { config.logLevel = level }
            if let limit = try log.integer("refusals_per_second") { config.logRefusalsPerSecond = limit }
            try log.finish()
        }
        if var limits = try reader.object("limits") {
            if let value = try limits.number("max_token_bytes", positive: true) { config.limits.maxTokenBytes = Int(value) }
            if let value = try limits.number("max_body_bytes", positive: true) { config.limits.maxBodyBytes = Int(value) }
            if let value = try limits.number("max_header_bytes", positive: true) { config.limits.maxHeaderBytes = Int(value) }
            if let value = try limits.number("identity_header_bytes", positive: true) { config.limits.identityHeaderBytes = Int(value) }
            if let value = try limits.number("idle_timeout", positive: true) { config.limits.idleTimeout = value }
            if let value = try limits.number("request_timeout", positive: true) { config.limits.requestTimeout = value }
            if let value = try limits.number("max_pipelined_requests", positive: true) { config.limits.maxPipelinedRequests = Int(value) }
            if let value = try limits.number("max_connections", positive: true) { config.limits.maxConnections = Int(value) }
            try limits.finish()
        }
        for (index, var client) in try reader.list("clients").enumerated() {
            guard let id = try client.string("id") else { throw ConfigurationError("clients[\(index)].id", "is required") }
            guard let secret = try client.secret("secret") else {
                throw ConfigurationError("clients[\(index)]", "needs secret_file or secret_env")
            }
            config.clients.append(OAuthClient(id: id, secret: secret, revokeAny: try client.bool("revoke_any") ?? false))
            try client.finish()
        }
        for (index, var entry) in try reader.list("issuers").enumerated() {
            let field = "issuers[\(index)]"
            guard let issuer = try entry.string("issuer") else { throw ConfigurationError("\(field).issuer", "is required") }
            var item = IssuerConfiguration(issuer: issuer)
            item.audiences = try entry.strings("audiences") ?? entry.string("audience").map { [$0] } ?? []
            item.keys = try (entry.strings("keys") ?? []).enumerated().map { position, spec in
                try KeySpec.resolve(spec, base: entry.base, field: "\(field).keys[\(position)]")
            }
            item.jwksURL = try entry.string("jwks_url")
            item.discovery = try entry.bool("discovery") ?? false
            if let value = try entry.number("jwks_refresh_interval", positive: true) { item.jwksRefreshInterval = value }
            if let value = try entry.number("jwks_refetch_interval", positive: true) { item.jwksRefetchInterval = value }
            if let value = try entry.number("jwks_timeout", positive: true) { item.jwksTimeout = value }
            item.algorithms = try (entry.strings("algorithms") ?? []).map { name in
                guard let algorithm = JWSAlgorithm(rawValue: name) else {
                    throw ConfigurationError("\(field).algorithms", "\"\(name)\" is not a supported algorithm (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return algorithm
            }
            if let leeway = try entry.number("leeway", positive: false) { item.leeway = leeway }
            if let required = try entry.strings("required_claims") { item.requiredClaims = required }
            item.requiredType = try entry.string("typ")
            item.maxLifetime = try entry.number("max_lifetime", positive: true)
            item.jtiFromTokenDigest = try entry.bool("jti_from_token_digest") ?? false
            item.allowInsecureJWKS = try entry.bool("allow_insecure_jwks") ?? false
            if var headers = try entry.object("headers") {
                item.claimHeaders = try headers.pairs().map { IssuerConfiguration.ClaimHeader(header: $0.0, claim: $0.1) }
            }
            try entry.finish()
            config.issuers.append(item)
        }
        try reader.finish()
        return config
    }
}

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
        if let int = value as? Int { number = Double(int) } else if let double = value as? Double { number = double } else {
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

/// Reads secrets from files: trailing line breaks are dropped, nothing else is changed.
public enum SecretSource {
    public static func file(_ path: String, field: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(field, "cannot read \(path)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw ConfigurationError(field, "\(path) is empty") }
        return text
    }
}

/// `[ALG:]FILE` key arguments, with relative paths resolved against a base directory.
public enum KeySpec {
    public static func resolve(_ spec: String, base: String, field: String) throws -> String {
        if let colon = spec.firstIndex(of: ":"), let algorithm = JWSAlgorithm(rawValue: String(spec[..<colon])) {
            return "\(algorithm.rawValue):" + absolute(String(spec[spec.index(after: colon)...]), base: base)
        }
        return absolute(spec, base: base)
    }

    static func absolute(_ path: String, base: String) -> String {
        path.hasPrefix("/") || base.isEmpty ? path : base + "/" + path
    }
}

/// Redis URL helpers that never print the password. They work on the text itself, since
/// `redis-sentinel://h1:26379,h2:26379/name` and `redis-cluster://h1,h2` are not URLs to Foundation.
public enum RedisURL {
    public static func hasPassword(_ url: String) -> Bool {
        guard let (_, userinfo, _) = split(url), let userinfo, let colon = userinfo.firstIndex(of: ":") else { return false }
        return userinfo.index(after: colon) < userinfo.endIndex
    }

    public static func withPassword(_ url: String, password: String, field: String) throws -> String {
        guard let (head, userinfo, rest) = split(url) else { throw ConfigurationError(field, "redis.url is not a URL") }
        let user = userinfo.map { info in info.firstIndex(of: ":").map { String(info[..<$0]) } ?? String(info) } ?? ""
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        var encoded = ""
        for byte in password.utf8 {
            if allowed.contains(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return "\(head)\(user):\(encoded)@\(rest)"
    }

    /// `scheme://`, the user info before `@` (if any), and everything after it.
    private static func split(_ url: String) -> (head: Substring, userinfo: Substring?, rest: Substring)? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let head = url[..<schemeEnd.upperBound]
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return (head, nil, afterScheme) }
        return (head, authority[..<at], afterScheme[afterScheme.index(after: at)...])
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
