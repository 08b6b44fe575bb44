/// Where an issuer's keys come from when a token is judged: a fixed set (a `KeySet`), or, in the
/// service, a provider whose set a remote JWKS replaces at run time.
package protocol KeySource: Sendable {
    /// The keys now; read once per validation, so it must be cheap.
    var current: KeySet { get }
}

extension KeySet: KeySource {
    package var current: KeySet { self }
}

/// One issuer as the validator sees it: its rules (with their key source). The CLI validates with
/// bare `IssuerPolicy` values; the service with its configured issuers, which carry more, so a
/// report names the very issuer object that judged the token.
package protocol ValidatingIssuer: Sendable {
    var policy: IssuerPolicy { get }
}

/// What one issuer's tokens must satisfy: its keys, audiences, leeway and required claims.
package struct IssuerPolicy: ValidatingIssuer {
    /// The expected `iss`; nil accepts any issuer (the CLI without `--iss`).
    package var issuer: String?
    /// Accepted audiences; empty means the audience is not checked.
    package var audiences: [String]
    package var keys: any KeySource
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    package var leeway: Double
    /// Claims that must be present, e.g. `exp` and, for revocation, `jti`.
    package var requiredClaims: [String]
    /// The required `typ` header (e.g. `at+jwt`, RFC 9068), compared case-insensitively
    /// with an optional `application/` prefix (RFC 7515 §4.1.9).
    package var requiredType: String?
    /// The longest accepted `exp − iat`, in seconds.
    package var maxLifetime: Double?
    package var maxTokenSize: Int
    /// The longest `jti` and `sub` accepted, in bytes: the blocklist cannot store longer ones,
    /// so such a token could never be revoked. nil: no limit (the CLI).
    package var maxIdentifierBytes: Int?

    /// Whether security event tokens pass: logout tokens (OIDC Back-Channel Logout) and SETs (RFC 8417),
    /// told by a `typ` of `logout+jwt` or `secevent+jwt` or an `events` object. Only the receivers of those
    /// set it: anywhere else such a token is refused (`token_type_mismatch`), since an identity provider signs
    /// them with the keys of its access tokens and a logout token addressed to a client id would otherwise
    /// pass where that client id is an accepted audience.
    package var acceptsSecurityEvents = false

    package static let defaultLeeway: Double = 60

    package init(
        issuer: String? = nil, audiences: [String] = [], keys: any KeySource, leeway: Double = defaultLeeway,
        requiredClaims: [String] = ["exp"], requiredType: String? = nil, maxLifetime: Double? = nil,
        maxTokenSize: Int = CompactJWS.defaultMaxSize, maxIdentifierBytes: Int? = nil
    ) {
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

    package var policy: IssuerPolicy { self }
}
