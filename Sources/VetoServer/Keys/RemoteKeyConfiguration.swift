import VetoCore

/// Where and how often an issuer's keys are fetched over HTTP.
///
/// The URL comes from the operator (`--jwks-url`) or from the issuer's own discovery document,
/// never from a token: `jku`, `x5u` and friends are not read anywhere in this module.
package struct RemoteKeyConfiguration: Sendable {
    /// The JWKS URL. When nil and `discovery` is on, it is read from
    /// `{issuer}/.well-known/openid-configuration` (`jwks_uri`).
    package var jwksURL: String?
    /// Use the issuer's discovery document when `jwksURL` is nil.
    package var discovery: Bool
    /// The longest time between two refreshes, and the interval when the server sends no
    /// `Cache-Control: max-age`. A key removed from the JWKS is trusted at most this long after.
    ///
    /// A larger `max-age` does not stretch it: honouring a provider's 24 h would let a
    /// compromised key linger for a day. Raise this instead when fewer fetches matter more.
    package var refreshInterval: Duration
    /// The shortest refresh interval a `max-age` can ask for (`max-age=0`, `no-cache`).
    package var minimumRefreshInterval: Duration
    /// The first retry delay after a failed refresh; it doubles per failure, up to `refreshInterval`.
    package var retryInterval: Duration
    /// At most one fetch triggered by unknown `kid`s per this interval, so random kids in forged
    /// tokens cannot turn into a flood of fetches.
    package var minimumRefetchInterval: Duration
    /// The limit for one whole fetch: discovery (when used), JWKS request and body.
    package var fetchTimeout: Duration
    /// The largest discovery or JWKS document accepted, in bytes.
    package var maxDocumentSize: Int
    /// The algorithm for JWKS keys without `alg` (e.g. Azure's RSA keys). Keys with another `alg` are skipped.
    package var defaultAlgorithm: JWSAlgorithm?
    /// The issuer's allowed algorithms (`issuers[].algorithms`); empty allows every one. A JWKS key
    /// pinned to another algorithm is skipped with a warning (security finding 4).
    package var allowedAlgorithms: [JWSAlgorithm]
    /// Accept a plain-http JWKS or discovery URL on a host other than loopback
    /// (`allow_insecure_jwks: true`): anyone on the network path could swap the keys.
    package var allowInsecure: Bool

    package init(
        jwksURL: String? = nil,
        discovery: Bool = true,
        refreshInterval: Duration = .seconds(600),
        minimumRefreshInterval: Duration = .seconds(60),
        retryInterval: Duration = .seconds(30),
        minimumRefetchInterval: Duration = .seconds(30),
        fetchTimeout: Duration = .seconds(5),
        maxDocumentSize: Int = 1 << 20,
        defaultAlgorithm: JWSAlgorithm? = nil,
        allowedAlgorithms: [JWSAlgorithm] = [],
        allowInsecure: Bool = false
    ) {
        self.jwksURL = jwksURL
        self.discovery = discovery
        self.refreshInterval = refreshInterval
        self.minimumRefreshInterval = minimumRefreshInterval
        self.retryInterval = retryInterval
        self.minimumRefetchInterval = minimumRefetchInterval
        self.fetchTimeout = fetchTimeout
        self.maxDocumentSize = maxDocumentSize
        self.defaultAlgorithm = defaultAlgorithm
        self.allowedAlgorithms = allowedAlgorithms
        self.allowInsecure = allowInsecure
    }

    /// Checks the settings that would make every fetch fail, so `veto serve` can refuse them at start.
    package func validate(issuer: String) throws(JWKSFetchError) {
        let location = try JWKSLocation(issuer: issuer, configuration: self)
        if !location.url.isHTTPS, !location.url.isLoopback, !allowInsecure {
            throw JWKSFetchError(
                .invalidConfiguration, url: location.url.redacted,
                "the keys would be fetched over plain http, where anyone on the network path can replace them; "
                    + "use https, or set allow_insecure_jwks: true (--allow-insecure-jwks) if the path is trusted")
        }
        if let defaultAlgorithm, defaultAlgorithm.family == .hmac {
            throw JWKSFetchError(
                .invalidConfiguration, url: jwksURL ?? issuer,
                "\(defaultAlgorithm) keys are secrets and can never come from a published JWKS")
        }
        guard maxDocumentSize > 0, fetchTimeout > .zero, refreshInterval > .zero else {
            throw JWKSFetchError(
                .invalidConfiguration, url: jwksURL ?? issuer,
                "maxDocumentSize, fetchTimeout and refreshInterval must be positive")
        }
    }
}
