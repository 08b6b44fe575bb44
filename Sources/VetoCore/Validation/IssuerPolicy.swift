/// What one issuer's tokens must satisfy: its keys, audiences, leeway and required claims.
public struct IssuerPolicy: Sendable {
    /// The expected `iss`; nil accepts any issuer (the CLI without `--iss`).
    public var issuer: String?
    /// Accepted audiences; empty means the audience is not checked.
    public var audiences: [String]
    public var keys: KeySet
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    public var leeway: Double
    /// Claims that must be present, e.g. `exp` and, for revocation, `jti`.
    public var requiredClaims: [String]
    /// The required `typ` header (e.g. `at+jwt`, RFC 9068), compared case-insensitively
    /// with an optional `application/` prefix (RFC 7515 §4.1.9).
    public var requiredType: String?
    /// The longest accepted `exp − iat`, in seconds.
    public var maxLifetime: Double?
    public var maxTokenSize: Int
    /// The longest `jti` and `sub` accepted, in bytes: the blocklist cannot store longer ones,
    /// so such a token could never be revoked. nil: no limit (the CLI).
    public var maxIdentifierBytes: Int?

    public static let defaultLeeway: Double = 60

    public init(issuer: String? = nil, audiences: [String] = [], keys: KeySet, leeway: Double = defaultLeeway,
                requiredClaims: [String] = ["exp"], requiredType: String? = nil, maxLifetime: Double? = nil,
                maxTokenSize: Int = CompactJWS.defaultMaxSize, maxIdentifierBytes: Int? = nil) {
        self.issuer = issuer
        self.audiences = audiences
        self.keys = keys
        self.leeway = leeway
        self.requiredClaims = requiredClaims
        self.requiredType = requiredType
        self.maxLifetime = maxLifetime
        self.maxTokenSize = maxTokenSize
        self.maxIdentifierBytes = maxIdentifierBytes
    }
}
