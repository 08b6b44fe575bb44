import VetoCore

/// One trusted issuer: its keys and the rules its tokens must satisfy.
package struct IssuerConfiguration: Sendable {
    package var issuer: String
    package var audiences: [String] = []
    /// Local keys: `[ALG:]FILE`.
    package var keys: [String] = []
    package var jwksURL: String?
    /// Find the JWKS through `{issuer}/.well-known/openid-configuration`.
    package var discovery = false
    /// Longest time between JWKS refreshes, in seconds (a shorter `Cache-Control: max-age` wins).
    package var jwksRefreshInterval: Double = 600
    /// Least time between two refetches caused by unknown kids, in seconds.
    package var jwksRefetchInterval: Double = 30
    /// Time allowed for one JWKS fetch, in seconds.
    package var jwksTimeout: Double = 5
    /// Algorithms accepted from this issuer; empty accepts every algorithm its keys are pinned to.
    package var algorithms: [JWSAlgorithm] = []
    package var leeway: Double = IssuerPolicy.defaultLeeway
    package var requiredClaims = ["exp", "jti"]
    package var requiredType: String?
    package var maxLifetime: Double?
    /// Identity headers from claims, in order: (header name, claim name).
    package var claimHeaders: [ClaimHeader] = []
    /// Identify tokens without `jti` by the SHA-256 of the whole token instead of refusing them.
    package var jtiFromTokenDigest = false
    /// Allow a plain-http `jwks_url` (or discovery issuer) on a host other than loopback.
    package var allowInsecureJWKS = false
    /// Logout tokens of this issuer are accepted at `POST /oidc/backchannel-logout`; nil: not.
    package var backchannelLogout: BackchannelLogoutConfiguration?

    package init(issuer: String) {
        self.issuer = issuer
    }

    package struct ClaimHeader: Sendable, Equatable {
        package var header: String
        package var claim: String

        package init(header: String, claim: String) {
            self.header = header
            self.claim = claim
        }
    }
}
