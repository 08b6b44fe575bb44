import HTTPTypes
import VetoCore
import VetoStore

/// One configured issuer, the only model of an issuer on the service's paths: its configuration,
/// the rules the validator applies (`policy`, whose key source is `keys`), where its keys come from,
/// and its identity headers prepared once. A validation report carries the issuer that judged the
/// token, so nothing joins parallel arrays by position.
package final class ConfiguredIssuer: ValidatingIssuer {
    package let configuration: IssuerConfiguration
    package let policy: IssuerPolicy
    package let keys: any KeyProvider
    /// Claim → header mappings with their field names parsed at start-up, not per request.
    let claimHeaders: [(name: HTTPField.Name, claim: String)]

    /// The issuer as tokens spell it (`iss`).
    package var name: String { configuration.issuer }

    /// - Parameters:
    ///   - maxTokenLifetime: `max_token_lifetime`: every token's lifetime is bounded by it, because every
    ///     revocation rule's life is computed from it (security finding 2); an issuer's own
    ///     `max_lifetime` can only be shorter.
    ///   - maxTokenBytes: `limits.max_token_bytes`.
    init(
        configuration: IssuerConfiguration, keys: any KeyProvider, maxTokenLifetime: Double,
        maxTokenBytes: Int
    ) throws {
        self.configuration = configuration
        self.keys = keys
        var required = configuration.requiredClaims
        if configuration.jtiFromTokenDigest { required.removeAll { $0 == "jti" } }
        self.policy = IssuerPolicy(
            issuer: configuration.issuer, audiences: configuration.audiences, keys: keys, leeway: configuration.leeway,
            requiredClaims: required, requiredType: configuration.requiredType,
            maxLifetime: min(configuration.maxLifetime ?? maxTokenLifetime, maxTokenLifetime),
            maxTokenSize: maxTokenBytes, maxIdentifierBytes: BlocklistConfiguration().maxKeyComponentLength)
        self.claimHeaders = try configuration.claimHeaders.enumerated().map { position, mapping in
            guard let name = HTTPField.Name(mapping.header) else {
                throw ConfigurationError(
                    "issuers[\(configuration.issuer)].headers[\(position)]", "\"\(mapping.header)\" is not a valid HTTP header name")
            }
            // A claim must not decide how the answer is framed or cached.
            guard !Self.reservedHeaders.contains(name.canonicalName) else {
                throw ConfigurationError(
                    "issuers[\(configuration.issuer)].headers[\(position)]",
                    "\"\(mapping.header)\" is set by Veto itself and cannot carry a claim")
            }
            // Veto's own identity and status headers: a claim under one of these names would shadow
            // the verified value a gateway forwards (security finding 14). X-Auth-Email and the like
            // stay free: that is the conventional home of claim headers.
            guard !Self.reservedIdentityHeaders.contains(name.canonicalName), !name.canonicalName.hasPrefix("x-veto-") else {
                throw ConfigurationError(
                    "issuers[\(configuration.issuer)].headers[\(position)]",
                    "\"\(mapping.header)\" is reserved: Veto sets X-Auth-Subject, X-Auth-Issuer, X-Auth-Jti, X-Auth-Expires "
                        + "and every X-Veto-* header itself; choose another name (e.g. X-Auth-Email)")
            }
            return (name, mapping.claim)
        }
        var seen: Set<String> = []
        for (position, mapping) in claimHeaders.enumerated() where !seen.insert(mapping.name.canonicalName).inserted {
            throw ConfigurationError(
                "issuers[\(configuration.issuer)].headers[\(position)]",
                "\"\(mapping.name.rawName)\" is mapped twice; one header carries one claim")
        }
    }

    /// The identity headers every allow carries (`CheckResponder`).
    static let reservedIdentityHeaders: Set<String> = Set(
        [HTTPField.Name.authSubject, .authIssuer, .authJti, .authExpires].map(\.canonicalName))

    static let reservedHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "content-type", "cache-control", "www-authenticate", "retry-after"
    ]
}
