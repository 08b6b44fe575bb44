import VetoCore

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
