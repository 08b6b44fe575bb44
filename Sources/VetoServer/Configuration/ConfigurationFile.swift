import Foundation
import VetoCore
import Yams

/// Reads the YAML configuration file. Unknown keys are errors (a typo must not silently turn a
/// check off), and every error names the field. Relative paths are relative to the file.
package enum ConfigurationFile {
    package static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("--config", "cannot read \(path)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), baseDirectory: base, environment: environment)
    }

    package static func parse(_ text: String, baseDirectory: String, environment: [String: String]) throws -> ServiceConfiguration {
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
        if var grpc = try reader.object("grpc") {
            if let listen = try grpc.string("listen") {
                guard let address = ListenAddress(parsing: listen) else { throw ConfigurationError("grpc.listen", "\"\(listen)\" is not HOST:PORT") }
                config.grpcListen = address
            }
            if let strip = try grpc.bool("strip_authorization") { config.grpcStripAuthorization = strip }
            config.grpcTLSCertificateFile = try grpc.path("tls_cert_file")
            config.grpcTLSKeyFile = try grpc.path("tls_key_file")
            try grpc.finish()
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
        if let consistency = try reader.string("consistency") {
            config.consistency = try ServiceConfiguration.consistency(consistency, field: "consistency")
        }
        if let staleness = try reader.number("max_staleness", positive: true) {
            config.maxStaleness = try ServiceConfiguration.maxStaleness(staleness, field: "max_staleness")
        }
        if let lifetime = try reader.number("max_token_lifetime", positive: true) { config.maxTokenLifetime = lifetime }
        if let hint = try reader.integer("cache_hint") {
            guard hint <= ServiceConfiguration.maxCacheHint else {
                throw ConfigurationError("cache_hint", "must be from 0 (no-store) to \(ServiceConfiguration.maxCacheHint) seconds")
            }
            config.cacheHint = hint
        }
        if let threads = try reader.number("threads", positive: true) { config.threads = Int(threads) }
        if let size = try reader.integer("verify_cache_size") {
            guard size <= ServiceConfiguration.maxVerifyCacheSize else {
                throw ConfigurationError("verify_cache_size", "must be at most \(ServiceConfiguration.maxVerifyCacheSize)")
            }
            config.verifyCacheSize = size
        }
        if var log = try reader.object("log") {
            if let format = try log.string("format") {
                guard let value = ServiceConfiguration.LogFormat(rawValue: format) else {
                    throw ConfigurationError("log.format", "\"\(format)\" is not text or json")
                }
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
                    throw ConfigurationError(
                        "\(field).algorithms",
                        "\"\(name)\" is not a supported algorithm (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
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
            item.backchannelLogout = try backchannelLogout(&entry)
            try entry.finish()
            config.issuers.append(item)
        }
        config.ssf = try ssf(&reader)
        try reader.finish()
        return config
    }
}
