import VetoCore

/// Everything `veto serve` needs, after flags, the config file and the environment are merged
/// and every secret has been read from its file or variable.
package struct ServiceConfiguration: Sendable {
    package var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    /// Where the gRPC ext_authz server (`envoy.service.auth.v3.Authorization`, h2c) listens; nil: not served.
    package var grpcListen: ListenAddress?
    /// An allowed gRPC check asks Envoy to remove `Authorization` before the request goes upstream.
    package var grpcStripAuthorization = false
    /// PEM certificate chain and private key: the gRPC server speaks TLS instead of h2c. Both or neither.
    package var grpcTLSCertificateFile: String?
    package var grpcTLSKeyFile: String?
    /// `redis://…` or `unix://…`; nil selects the embedded store.
    package var redisURL: String?
    /// TLS, replication confirmation and read preference for ``redisURL``.
    package var redisOptions = RedisOptions()
    /// Where the embedded store keeps its journal; nil keeps it in memory only (tests, demos).
    package var dataDirectory: String?
    package var issuers: [IssuerConfiguration] = []
    /// The admin bearer token; nil disables the admin API.
    package var adminToken: String?
    /// OAuth clients allowed to call `/oauth2/introspect` and `/oauth2/revoke` with HTTP Basic.
    package var clients: [OAuthClient] = []
    /// The Shared Signals receivers (`ssf.receivers`).
    package var ssf = SSFConfiguration()
    /// Let tokens through (marked) when the store cannot be read. Off: fail closed.
    package var failOpen = false
    package var keyPrefix = "veto:"
    /// The longest lifetime (`exp − iat`) of any accepted token: longer tokens are refused as
    /// `lifetime_too_long`, so that revocation rules sized from it (an entry without a known `exp`,
    /// a subject cut-off) always outlive the tokens they cover.
    package var maxTokenLifetime: Double = 86_400
    package var limits = Limits()
    package var logFormat: LogFormat = .text
    package var logLevel = "info"
    /// Refusals logged per reason code and second (on each event loop); the rest are counted in a
    /// "suppressed N" line. 0 logs none. Metrics count every refusal regardless.
    package var logRefusalsPerSecond = RefusalLog.defaultLimit
    /// Event-loop threads; nil means the CPUs this process may use (``UsableCPUs``).
    package var threads: Int?
    package var redisCommandTimeout: Double = 1.0
    /// Seconds a gateway that caches auth answers may keep an allow (`Cache-Control: private, max-age`),
    /// capped by the token's expiry and, with bounded consistency, by `max_staleness`. 0: `no-store`.
    package var cacheHint = 0
    package static let maxCacheHint = 3600
    /// Seconds a 503 asks the client to wait (`Retry-After`).
    package var retryAfter = 1
    /// Verified tokens remembered on each event loop (every loop holds the whole working set) so
    /// repeated checks skip the signature and claims work; 0 turns the cache off. Revocation is looked
    /// up on every check anyway.
    package var verifyCacheSize = ServiceConfiguration.defaultVerifyCacheSize
    package static let defaultVerifyCacheSize = 16_384
    package static let maxVerifyCacheSize = 10_000_000

    /// `strict`: every check asks the store. `bounded`: checks read a local replica of the Redis
    /// blocklist, at most ``maxStaleness`` seconds behind (README, "Consistency").
    package var consistency = Consistency.strict
    /// How far behind Redis a replica may answer, in seconds (bounded consistency).
    package var maxStaleness: Double = 1
    /// The largest `max_staleness` accepted: a replica further behind is a cache nobody can reason about.
    package static let maxMaxStaleness: Double = 60

    package init() {}

    package enum Consistency: String, Sendable, CaseIterable { case strict, bounded }

    package enum LogFormat: String, Sendable, CaseIterable { case text, json }
}
