import HTTPTypes
import VetoCore

/// One configured issuer as the check path uses it: keys, and identity headers prepared once.
struct IssuerRuntime: Sendable {
    let configuration: IssuerConfiguration
    let keys: any KeyProvider
    /// Claim → header mappings with their field names parsed at start-up, not per request.
    let claimHeaders: [(name: HTTPField.Name, claim: String)]

    init(configuration: IssuerConfiguration, keys: any KeyProvider) throws {
        self.configuration = configuration
        self.keys = keys
        self.claimHeaders = try configuration.claimHeaders.enumerated().map { position, mapping in
            guard let name = HTTPField.Name(mapping.header) else {
                throw ConfigurationError("issuers[\(configuration.issuer)].headers[\(position)]", "\"\(mapping.header)\" is not a valid HTTP header name")
            }
            // A claim must not decide how the answer is framed or cached.
            guard !Self.reservedHeaders.contains(name.canonicalName) else {
                throw ConfigurationError("issuers[\(configuration.issuer)].headers[\(position)]",
                                         "\"\(mapping.header)\" is set by Veto itself and cannot carry a claim")
            }
            // Veto's own identity and status headers: a claim under one of these names would shadow
            // the verified value a gateway forwards (security finding 14). X-Auth-Email and the like
            // stay free: that is the conventional home of claim headers.
            guard !Self.reservedIdentityHeaders.contains(name.canonicalName), !name.canonicalName.hasPrefix("x-veto-") else {
                throw ConfigurationError("issuers[\(configuration.issuer)].headers[\(position)]",
                                         "\"\(mapping.header)\" is reserved: Veto sets X-Auth-Subject, X-Auth-Issuer, X-Auth-Jti, X-Auth-Expires "
                                             + "and every X-Veto-* header itself; choose another name (e.g. X-Auth-Email)")
            }
            return (name, mapping.claim)
        }
        var seen: Set<String> = []
        for (position, mapping) in claimHeaders.enumerated() where !seen.insert(mapping.name.canonicalName).inserted {
            throw ConfigurationError("issuers[\(configuration.issuer)].headers[\(position)]",
                                     "\"\(mapping.name.rawName)\" is mapped twice; one header carries one claim")
        }
    }

    /// The identity headers every allow carries (`CheckResponder`).
    static let reservedIdentityHeaders: Set<String> = ["x-auth-subject", "x-auth-issuer", "x-auth-jti", "x-auth-expires"]

    static let reservedHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "content-type", "cache-control", "www-authenticate", "retry-after",
    ]
}
