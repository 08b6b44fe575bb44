import VetoCore

/// Where an issuer's JWKS is found: a configured URL, or the issuer's discovery document.
enum JWKSLocation: Sendable, Equatable {
    case jwks(HTTPURL)
    /// The `{issuer}/.well-known/openid-configuration` URL, whose `jwks_uri` names the JWKS.
    case discovery(HTTPURL)

    static let discoveryPath = "/.well-known/openid-configuration"

    init(issuer: String, configuration: RemoteKeyConfiguration) throws(JWKSFetchError) {
        if let configured = configuration.jwksURL {
            guard let url = HTTPURL(configured) else {
                // The text is not echoed: a malformed URL cannot be redacted reliably.
                throw JWKSFetchError(
                    .invalidConfiguration, url: "the configured JWKS URL",
                    "the JWKS URL must be an absolute http:// or https:// URL")
            }
            self = .jwks(url)
            return
        }
        guard configuration.discovery else {
            throw JWKSFetchError(
                .invalidConfiguration, url: issuer,
                "neither a JWKS URL nor discovery is configured")
        }
        // OpenID Connect Discovery §4: the issuer, without a trailing slash, plus the well-known path.
        var base = Substring(issuer)
        while base.hasSuffix("/") { base = base.dropLast() }
        guard let issuerURL = HTTPURL(String(base)), !base.contains("?"), !base.contains("#") else {
            throw JWKSFetchError(
                .invalidConfiguration, url: HTTPURL(issuer)?.redacted ?? "the issuer \(JSONWriter.quoted(issuer))",
                "discovery needs an issuer that is an http(s) URL without query or fragment; give --jwks-url instead")
        }
        guard let url = HTTPURL(issuerURL.text + Self.discoveryPath) else {
            throw JWKSFetchError(.invalidConfiguration, url: issuerURL.redacted, "cannot build the discovery URL")
        }
        self = .discovery(url)
    }
}

extension JWKSLocation {
    /// The first URL requested, for messages.
    var url: HTTPURL {
        switch self {
        case let .jwks(url), let .discovery(url): url
        }
    }
}
