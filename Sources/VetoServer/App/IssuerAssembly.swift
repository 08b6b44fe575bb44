import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import VetoCore
import VetoCrypto

/// The configured issuers, built from the configuration: each with its key files loaded, its remote
/// JWKS (if any) set up, its rules and its identity headers. Every configuration mistake here is a
/// `ConfigurationError` naming the field, before anything listens.
package struct IssuerAssembly {
    let issuers: [ConfiguredIssuer]
    /// The issuers' remote key sets, refreshed by `KeyRefreshService`.
    let remoteKeys: [IssuerKeys]
    /// Shared by every remote key set; nil when no issuer fetches keys.
    let httpClient: HTTPClient?

    init(_ configuration: ServiceConfiguration, metrics: ServiceMetrics, eventLoopGroup: any EventLoopGroup, logger: Logger) throws {
        guard !configuration.issuers.isEmpty else {
            throw ConfigurationError("issuers", "no issuer is configured: give --issuer ISS with --key or --jwks-url, or issuers: in --config")
        }
        guard configuration.maxTokenLifetime.isFinite, configuration.maxTokenLifetime > 0,
            configuration.maxTokenLifetime <= RevocationRules.maxTokenLifetimeBound
        else {
            throw ConfigurationError(
                "max_token_lifetime",
                "must be from 1 to \(Int(RevocationRules.maxTokenLifetimeBound)) seconds (10 years), not \(configuration.maxTokenLifetime)")
        }
        var issuers: [ConfiguredIssuer] = []
        var remoteKeys: [IssuerKeys] = []
        var httpClient: HTTPClient?
        var seen: Set<ExactString> = []
        for (index, issuer) in configuration.issuers.enumerated() {
            let field = "issuers[\(index)]"
            guard seen.insert(ExactString(issuer.issuer)).inserted else {
                throw ConfigurationError("\(field).issuer", "\"\(issuer.issuer)\" is configured twice")
            }
            guard issuer.leeway.isFinite, issuer.leeway >= 0, issuer.leeway <= RevocationRules.maxLeeway else {
                throw ConfigurationError("\(field).leeway", "must be from 0 to \(Int(RevocationRules.maxLeeway)) seconds, not \(issuer.leeway)")
            }
            let keys = try Self.loadKeys(issuer, field: field, logger: logger)
            guard !keys.isEmpty || issuer.jwksURL != nil || issuer.discovery else {
                throw ConfigurationError("\(field).keys", "issuer \"\(issuer.issuer)\" has no keys: give keys, jwks_url or discovery")
            }
            let provider: any KeyProvider
            if issuer.jwksURL != nil || issuer.discovery {
                let remote = try Self.remoteConfiguration(issuer, field: field, logger: logger)
                let client =
                    httpClient ?? HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: .init(redirectConfiguration: .disallow))
                httpClient = client
                let remoteSet = IssuerKeys(
                    issuer: issuer.issuer, staticKeys: keys, remote: remote, httpClient: client,
                    logger: logger, metricsFactory: metrics.factory)
                remoteKeys.append(remoteSet)
                provider = remoteSet
            } else {
                provider = StaticKeys(current: KeySet(keys))
            }
            issuers.append(
                try ConfiguredIssuer(
                    configuration: issuer, keys: provider, maxTokenLifetime: configuration.maxTokenLifetime,
                    maxTokenBytes: configuration.limits.maxTokenBytes))
        }
        self.issuers = issuers
        self.remoteKeys = remoteKeys
        self.httpClient = httpClient
    }

    private static func remoteConfiguration(_ issuer: IssuerConfiguration, field: String, logger: Logger) throws -> RemoteKeyConfiguration {
        let remote = RemoteKeyConfiguration(
            jwksURL: issuer.jwksURL, discovery: issuer.discovery,
            refreshInterval: .milliseconds(Int64(issuer.jwksRefreshInterval * 1000)),
            minimumRefreshInterval: .milliseconds(Int64(min(60, issuer.jwksRefreshInterval) * 1000)),
            minimumRefetchInterval: .milliseconds(Int64(issuer.jwksRefetchInterval * 1000)),
            fetchTimeout: .milliseconds(Int64(issuer.jwksTimeout * 1000)),
            defaultAlgorithm: issuer.algorithms.count == 1 ? issuer.algorithms[0] : nil,
            allowedAlgorithms: issuer.algorithms, allowInsecure: issuer.allowInsecureJWKS)
        do {
            try remote.validate(issuer: issuer.issuer)
        } catch {
            throw ConfigurationError(issuer.jwksURL != nil ? "\(field).jwks_url" : "\(field).discovery", "\(error)")
        }
        if let location = try? JWKSLocation(issuer: issuer.issuer, configuration: remote), !location.url.isHTTPS {
            logger.warning("keys are fetched over plain http", metadata: ["iss": .string(issuer.issuer), "url": .string(location.url.redacted)])
        }
        return remote
    }

    /// Reads `issuer.keys` (`[ALG:]FILE`) and checks them against `issuer.algorithms`; errors name `field`.
    package static func loadKeys(_ issuer: IssuerConfiguration, field: String, logger: Logger) throws -> [VerificationKey] {
        var keys: [VerificationKey] = []
        for (position, spec) in issuer.keys.enumerated() {
            var algorithm: JWSAlgorithm?
            var path = spec
            if let colon = spec.firstIndex(of: ":"), let named = JWSAlgorithm(rawValue: String(spec[..<colon])) {
                algorithm = named
                path = String(spec[spec.index(after: colon)...])
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("\(field).keys[\(position)]", "cannot read key file \(path)")
            }
            do {
                let load = try KeyLoader.verificationKeys(from: [UInt8](data), source: path, algorithm: algorithm)
                for skipped in load.skipped { logger.warning("key skipped: \(skipped)", metadata: ["iss": .string(issuer.issuer)]) }
                keys.append(contentsOf: load.keys)
            } catch {
                throw ConfigurationError("\(field).keys[\(position)]", "\(error)")
            }
        }
        if !issuer.algorithms.isEmpty {
            for key in keys where !issuer.algorithms.contains(key.algorithm) {
                throw ConfigurationError(
                    "\(field).algorithms",
                    "key \(key.label) is pinned to \(key.algorithm), which is not in the allowed algorithms \(issuer.algorithms.map(\.rawValue))")
            }
        }
        return keys
    }
}
