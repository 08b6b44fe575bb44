import VetoCore

/// Reads `jwks_uri` from an OpenID Connect discovery document (OpenID Connect Discovery 1.0 §3, §4.3).
enum DiscoveryDocument {
    static func jwksURL(from body: [UInt8], issuer: String, discoveryURL: HTTPURL, allowInsecure: Bool = false) throws(JWKSFetchError) -> HTTPURL {
        let object: JSONObject
        do {
            object = try JSONReader().parseObject(body)
        } catch {
            throw JWKSFetchError(.malformedDocument, url: discoveryURL.redacted, "the discovery document is not a JSON object: \(error)")
        }
        // §4.3: the issuer in the document must be the one it was fetched for, or one provider
        // could hand out the keys of another (issuer mix-up).
        guard let documentIssuer = object["issuer"]?.stringValue else {
            throw JWKSFetchError(.malformedDocument, url: discoveryURL.redacted, "the discovery document has no string \"issuer\"")
        }
        guard documentIssuer.hasSameBytes(as: issuer) else {
            throw JWKSFetchError(
                .issuerMismatch, url: discoveryURL.redacted,
                "the discovery document's issuer is \(JSONWriter.quoted(documentIssuer)); expected \(JSONWriter.quoted(issuer))")
        }
        guard let text = object["jwks_uri"]?.stringValue else {
            throw JWKSFetchError(.malformedDocument, url: discoveryURL.redacted, "the discovery document has no string \"jwks_uri\"")
        }
        guard let url = HTTPURL(text) else {
            throw JWKSFetchError(.malformedDocument, url: discoveryURL.redacted, "the discovery document's jwks_uri is not an absolute http(s) URL")
        }
        // A document fetched over TLS must not send us to plain HTTP, where anyone on the path could swap the keys.
        guard url.isHTTPS || !discoveryURL.isHTTPS else {
            throw JWKSFetchError(
                .malformedDocument, url: discoveryURL.redacted, "the discovery document's jwks_uri \(url.redacted) is plain http; expected https")
        }
        // The same rule as for a configured URL: plain http only on loopback, or when allowed.
        guard url.isHTTPS || url.isLoopback || allowInsecure else {
            throw JWKSFetchError(
                .malformedDocument, url: discoveryURL.redacted,
                "the discovery document's jwks_uri \(url.redacted) is plain http on a host other than loopback; set allow_insecure_jwks: true if the path is trusted"
            )
        }
        return url
    }
}
