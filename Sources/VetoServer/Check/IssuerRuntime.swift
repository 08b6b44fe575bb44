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
            return (name, mapping.claim)
        }
    }

    static let reservedHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "content-type", "cache-control", "www-authenticate", "retry-after",
    ]
}
