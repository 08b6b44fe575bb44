import VetoCore

/// Everything `veto serve` needs, after flags, the config file and the environment are merged
/// and every secret has been read from its file or variable.
public struct ServiceConfiguration: Sendable {
    public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    /// `redis://…` or `unix://…`; nil selects the embedded store.
    public var redisURL: String?
    /// TLS, replication confirmation and read preference for ``redisURL``.
    public var redisOptions = RedisOptions()
    /// Where the embedded store keeps its journal; nil keeps it in memory only (tests, demos).
    public var dataDirectory: String?
    public var issuers: [IssuerConfiguration] = []
    /// The admin bearer token; nil disables the admin API.
    public var adminToken: String?
    /// OAuth clients allowed to call `/oauth2/introspect` and `/oauth2/revoke` with HTTP Basic.
    public var clients: [OAuthClient] = []
    /// Let tokens through (marked) when the store cannot be read. Off: fail closed.
    public var failOpen = false
    public var keyPrefix = "veto:"
    /// The longest lifetime (`exp − iat`) of any accepted token: longer tokens are refused as
    /// `lifetime_too_long`, so that revocation rules sized from it (an entry without a known `exp`,
    /// a subject cut-off) always outlive the tokens they cover.
    public var maxTokenLifetime: Double = 86_400
    public var limits = Limits()
    public var logFormat: LogFormat = .text
    public var logLevel = "info"
    /// Refusals logged per reason code and second (on each event loop); the rest are counted in a
    /// "suppressed N" line. 0 logs none. Metrics count every refusal regardless.
    public var logRefusalsPerSecond = RefusalLog.defaultLimit
    /// Event-loop threads; nil means one per core.
    public var threads: Int?
    public var redisCommandTimeout: Double = 1.0
    /// Seconds a 503 asks the client to wait (`Retry-After`).
    public var retryAfter = 1
    /// Verified tokens remembered (shared out among the event loops) so repeated checks skip the
    /// signature and claims work; 0 turns the cache off. Revocation is looked up on every check anyway.
    public var verifyCacheSize = ServiceConfiguration.defaultVerifyCacheSize
    public static let defaultVerifyCacheSize = 16_384
    public static let maxVerifyCacheSize = 10_000_000

    public init() {}

    public enum LogFormat: String, Sendable, CaseIterable { case text, json }
}
