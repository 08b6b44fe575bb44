import NIOCore
import VetoRedis

/// Redis settings besides the URL: TLS files, confirmation of writes by replicas, where reads go.
/// Set by flags (`--redis-ca`, …) or the `redis:` section of the config file; flags win.
package struct RedisOptions: Sendable, Equatable {
    /// PEM CA certificates the server's certificate must chain to (`--redis-ca`, `redis.ca_file`).
    package var caFile: String?
    /// PEM client certificate and key for mutual TLS (`--redis-cert`/`--redis-key`, `redis.cert_file`/`redis.key_file`).
    package var certificateFile: String?
    package var keyFile: String?
    /// The name the server's certificate must carry, when it is not the URL's host.
    package var serverName: String?
    /// Replicas that must confirm a revocation (`WAIT`) before it is acknowledged; 0 or nil: none.
    package var waitReplicas: Int?
    /// Seconds `WAIT` may take (default 1).
    package var waitTimeout: Double?
    /// `master` (default) or `replica` (Sentinel only).
    package var readFrom: String?

    package init() {}

    /// Takes every setting `other` has.
    package mutating func merge(_ other: RedisOptions) {
        caFile = other.caFile ?? caFile
        certificateFile = other.certificateFile ?? certificateFile
        keyFile = other.keyFile ?? keyFile
        serverName = other.serverName ?? serverName
        waitReplicas = other.waitReplicas ?? waitReplicas
        waitTimeout = other.waitTimeout ?? waitTimeout
        readFrom = other.readFrom ?? readFrom
    }

    var usesTLSSettings: Bool {
        caFile != nil || certificateFile != nil || keyFile != nil || serverName != nil
    }

    /// The client configuration for `url` with these settings; certificate files are read once here,
    /// so a bad one stops the start instead of failing every connection.
    package func configuration(url: String) throws(ConfigurationError) -> RedisConfiguration {
        var redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: url)
        } catch {
            throw ConfigurationError("--redis", error.message)
        }
        if redis.tls != nil {
            redis.tls = RedisConfiguration.TLS(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile, serverName: serverName)
        } else if usesTLSSettings {
            throw ConfigurationError("--redis-ca", "TLS settings need a TLS URL: rediss://, rediss-sentinel:// or rediss-cluster://")
        }
        if let waitReplicas {
            guard waitReplicas >= 0 else { throw ConfigurationError("--redis-wait-replicas", "must be 0 or more") }
            redis.replicasToConfirm = waitReplicas
        }
        if let waitTimeout {
            guard waitTimeout > 0, waitTimeout.isFinite else { throw ConfigurationError("--redis-wait-timeout", "must be a number of seconds > 0") }
            redis.replicationTimeout = .milliseconds(Int64((waitTimeout * 1000).rounded(.up)))
        }
        if let readFrom {
            guard let preference = RedisConfiguration.ReadPreference(rawValue: readFrom) else {
                throw ConfigurationError("--redis-read-from", "\"\(readFrom)\" is not master or replica")
            }
            if preference == .replica {
                guard case .sentinel = redis.topology else {
                    throw ConfigurationError(
                        "--redis-read-from", "replica needs a redis-sentinel:// URL (a cluster and a single server read from masters)")
                }
            }
            redis.readFrom = preference
        }
        do {
            try RedisClient.validate(redis)
        } catch {
            throw ConfigurationError(usesTLSSettings ? "--redis-ca/--redis-cert/--redis-key" : "--redis", error.message)
        }
        return redis
    }
}
