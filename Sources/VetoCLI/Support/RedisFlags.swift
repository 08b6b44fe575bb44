import ArgumentParser
import VetoServer

/// The Redis flags `veto serve` and `veto blocklist` share: TLS, replication confirmation, reads.
struct RedisFlags: ParsableArguments {
    @Option(
        name: .customLong("redis-ca"),
        help: ArgumentHelp("CA certificates (PEM) the Redis server's certificate must chain to; needs a rediss:// URL.", valueName: "FILE"))
    var redisCA: String?

    @Option(
        name: .customLong("redis-cert"),
        help: ArgumentHelp("Client certificate (PEM) for mutual TLS with Redis, with --redis-key.", valueName: "FILE"))
    var redisCert: String?

    @Option(name: .customLong("redis-key"), help: ArgumentHelp("Private key (PEM) of --redis-cert.", valueName: "FILE"))
    var redisKey: String?

    @Option(
        name: .customLong("redis-tls-server-name"),
        help: ArgumentHelp("The name Redis's certificate must carry, when it is not the URL's host.", valueName: "NAME"))
    var redisTLSServerName: String?

    @Option(
        name: .customLong("redis-wait-replicas"),
        help: ArgumentHelp("Acknowledge a revocation only after N replicas confirmed it (Redis WAIT); otherwise answer 503.", valueName: "N"))
    var redisWaitReplicas: Int?

    @Option(
        name: .customLong("redis-wait-timeout"),
        help: ArgumentHelp("Seconds WAIT may take before the revocation fails as unconfirmed (default 1).", valueName: "SECONDS"))
    var redisWaitTimeout: Double?

    @Option(
        name: .customLong("redis-read-from"),
        help: ArgumentHelp(
            "Where checks read: master (default) or replica (Sentinel only; may miss a revocation for the replication lag).",
            valueName: "master|replica"))
    var redisReadFrom: String?

    var options: RedisOptions {
        var options = RedisOptions()
        options.caFile = redisCA
        options.certificateFile = redisCert
        options.keyFile = redisKey
        options.serverName = redisTLSServerName
        options.waitReplicas = redisWaitReplicas
        options.waitTimeout = redisWaitTimeout
        options.readFrom = redisReadFrom
        return options
    }
}
