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

public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `:PORT` or `[::1]:PORT`.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Bounds on what a client may send, and how long it may take.
public struct Limits: Sendable {
    public var maxTokenBytes = 8 * 1024
    public var maxBodyBytes = 64 * 1024
    public var maxHeaderBytes = 16 * 1024
    /// Budget for all identity headers on an allow (`X-Auth-*` and mapped claims).
    public var identityHeaderBytes = 4 * 1024
    public var idleTimeout: Double = 60
    public var requestTimeout: Double = 10
    /// Requests a client may pipeline on one connection before Veto stops reading from it.
    public var maxPipelinedRequests = 16
    /// Open client connections; beyond it a new connection is accepted and closed at once.
    public var maxConnections = 10_000

    public init() {}
}

public struct OAuthClient: Sendable {
    public var id: String
    public var secret: String
    /// May revoke (RFC 7009) tokens issued to any client, not only its own: for gateways and admin tools.
    public var revokeAny: Bool

    public init(id: String, secret: String, revokeAny: Bool = false) {
        self.id = id
        self.secret = secret
        self.revokeAny = revokeAny
    }
}

/// One trusted issuer: its keys and the rules its tokens must satisfy.
public struct IssuerConfiguration: Sendable {
    public var issuer: String
    public var audiences: [String] = []
    /// Local keys: `[ALG:]FILE`.
    public var keys: [String] = []
    public var jwksURL: String?
    /// Find the JWKS through `{issuer}/.well-known/openid-configuration`.
    public var discovery = false
    /// Longest time between JWKS refreshes, in seconds (a shorter `Cache-Control: max-age` wins).
    public var jwksRefreshInterval: Double = 600
    /// Least time between two refetches caused by unknown kids, in seconds.
    public var jwksRefetchInterval: Double = 30
    /// Time allowed for one JWKS fetch, in seconds.
    public var jwksTimeout: Double = 5
    /// Algorithms accepted from this issuer; empty accepts every algorithm its keys are pinned to.
    public var algorithms: [JWSAlgorithm] = []
    public var leeway: Double = IssuerPolicy.defaultLeeway
    public var requiredClaims = ["exp", "jti"]
    public var requiredType: String?
    public var maxLifetime: Double?
    /// Identity headers from claims, in order: (header name, claim name).
    public var claimHeaders: [ClaimHeader] = []
    /// Identify tokens without `jti` by the SHA-256 of the whole token instead of refusing them.
    public var jtiFromTokenDigest = false
    /// Allow a plain-http `jwks_url` (or discovery issuer) on a host other than loopback.
    public var allowInsecureJWKS = false

    public init(issuer: String) {
        self.issuer = issuer
    }

    public struct ClaimHeader: Sendable, Equatable {
        public var header: String
        public var claim: String

        public init(header: String, claim: String) {
            self.header = header
            self.claim = claim
        }
    }
}
