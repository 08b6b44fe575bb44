import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import UnixSignals
import VetoCore
import VetoCrypto
import VetoRedis
import VetoStore

/// Builds the whole service from a configuration. `veto serve` and the tests call the same function.
public enum VetoService {
    /// What `build` returns: the application to run, and the parts tests look at.
    public struct Built: Sendable {
        public let application: Application<RouterResponder<BasicRequestContext>>
        public let blocklist: any Blocklist
        let redisClient: RedisClient?
        /// Its once-a-second summary timers stop with the store.
        var refusalLog: RefusalLog?

        /// Serves until SIGTERM or SIGINT, drains in-flight requests, then closes the store.
        public func run() async throws {
            do {
                try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                await close()
                throw error
            }
            await close()
        }

        /// Closes the store once the application has stopped (after in-flight requests drained).
        public func close() async {
            refusalLog?.stop()
            await blocklist.close()
            if let redisClient { await redisClient.close() }
        }
    }

    public static func build(_ configuration: ServiceConfiguration, logger: Logger, eventLoopGroup: any EventLoopGroup,
                             onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws -> Built {
        guard !configuration.issuers.isEmpty else {
            throw ConfigurationError("issuers", "no issuer is configured: give --issuer ISS with --key or --jwks-url, or issuers: in --config")
        }
        let metrics = ServiceMetrics()
        var remoteIssuers: [IssuerKeys] = []
        var httpClient: HTTPClient?
        var seenIssuers: Set<ExactString> = []
        var runtimes: [IssuerRuntime] = []
        var policies: [IssuerPolicy] = []
        for (index, issuer) in configuration.issuers.enumerated() {
            let field = "issuers[\(index)]"
            guard seenIssuers.insert(ExactString(issuer.issuer)).inserted else { throw ConfigurationError("\(field).issuer", "\"\(issuer.issuer)\" is configured twice") }
            let keys = try loadKeys(issuer, field: field, logger: logger)
            guard !keys.isEmpty || issuer.jwksURL != nil || issuer.discovery else {
                throw ConfigurationError("\(field).keys", "issuer \"\(issuer.issuer)\" has no keys: give keys, jwks_url or discovery")
            }
            let provider: any KeyProvider
            if issuer.jwksURL != nil || issuer.discovery {
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
                let client = httpClient ?? HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup),
                                                      configuration: .init(redirectConfiguration: .disallow))
                httpClient = client
                let remoteKeys = IssuerKeys(issuer: issuer.issuer, staticKeys: keys, remote: remote, httpClient: client,
                                            logger: logger, metricsFactory: metrics.factory)
                remoteIssuers.append(remoteKeys)
                provider = remoteKeys
            } else {
                provider = StaticKeys(current: KeySet(keys))
            }
            runtimes.append(try IssuerRuntime(configuration: issuer, keys: provider))
            var required = issuer.requiredClaims
            if issuer.jtiFromTokenDigest { required.removeAll { $0 == "jti" } }
            // Every token's lifetime is bounded by max_token_lifetime, because every revocation rule's life
            // is computed from it (security finding 2): an issuer's own max_lifetime can only be shorter.
            let maxLifetime = min(issuer.maxLifetime ?? configuration.maxTokenLifetime, configuration.maxTokenLifetime)
            policies.append(IssuerPolicy(issuer: issuer.issuer, audiences: issuer.audiences, keys: KeySet(keys), leeway: issuer.leeway,
                                         requiredClaims: required, requiredType: issuer.requiredType, maxLifetime: maxLifetime,
                                         maxTokenSize: configuration.limits.maxTokenBytes,
                                         maxIdentifierBytes: BlocklistConfiguration().maxKeyComponentLength))
        }
        for (index, issuer) in configuration.issuers.enumerated()
        where !(issuer.leeway.isFinite && issuer.leeway >= 0 && issuer.leeway <= RevocationRules.maxLeeway) {
            throw ConfigurationError("issuers[\(index)].leeway", "must be from 0 to \(Int(RevocationRules.maxLeeway)) seconds, not \(issuer.leeway)")
        }
        guard configuration.maxTokenLifetime.isFinite, configuration.maxTokenLifetime > 0,
              configuration.maxTokenLifetime <= RevocationRules.maxTokenLifetimeBound else {
            throw ConfigurationError("max_token_lifetime", "must be from 1 to \(Int(RevocationRules.maxTokenLifetimeBound)) seconds (10 years), not \(configuration.maxTokenLifetime)")
        }
        let maxLeeway = configuration.issuers.map(\.leeway).max() ?? IssuerPolicy.defaultLeeway
        let rules = RevocationRules(leeway: maxLeeway, maxTokenLifetime: configuration.maxTokenLifetime)
        let (blocklist, redisClient) = try await makeBlocklist(configuration, rules: rules, eventLoopGroup: eventLoopGroup, logger: logger)

        // Fetch remote keys before listening; a provider that is down only delays readiness.
        await withTaskGroup(of: Void.self) { group in
            for keys in remoteIssuers {
                group.addTask {
                    do { try await keys.refresh() } catch { logger.warning("initial JWKS fetch failed for \(keys.issuer): \(error)") }
                }
            }
        }
        let engine = CheckEngine(issuers: runtimes, policies: policies, blocklist: blocklist, failOpen: configuration.failOpen,
                                 clock: { Date().timeIntervalSince1970 },
                                 digest: { Hex.encode(Digest.sha256($0)) },
                                 caches: VerificationCaches(totalCapacity: configuration.verifyCacheSize, eventLoopGroup: eventLoopGroup),
                                 tokenDigest: { VerificationCache.Key(digest: Digest.sha256($0)) },
                                 cacheHits: metrics.verifyCacheHits, cacheMisses: metrics.verifyCacheMisses,
                                 identityHeaderBudget: configuration.limits.identityHeaderBytes)
        let responder = CheckResponder(retryAfter: configuration.retryAfter)
        let refusalLog = RefusalLog(limit: configuration.logRefusalsPerSecond, logger: logger, eventLoops: Array(eventLoopGroup.makeIterator()))
        refusalLog.start()
        let dataPlane = DataPlane(engine: engine, responder: responder, blocklist: blocklist, metrics: metrics, logger: logger,
                                  limits: configuration.limits, refusalLog: refusalLog)
        let controlPlane = ControlPlane(
            engine: engine, blocklist: blocklist,
            credentials: Credentials(adminToken: configuration.adminToken, clients: configuration.clients),
            metrics: metrics, limits: configuration.limits, logger: logger, eventLoopGroup: eventLoopGroup,
            readiness: { [runtimes] in
                var problems: [ReadinessProblem] = []
                let waiting = runtimes.filter { !$0.keys.isReady }.map(\.configuration.issuer)
                if !waiting.isEmpty {
                    problems.append(ReadinessProblem(
                        summary: "no keys loaded yet for \(waiting.count) of \(runtimes.count) issuers",
                        detail: "no keys loaded yet for " + waiting.map(JSONWriter.quoted).joined(separator: ", ")))
                }
                do { try await blocklist.ping() } catch {
                    problems.append(ReadinessProblem(summary: "blocklist store unavailable", detail: "blocklist store unavailable: \(error)"))
                    return problems
                }
                guard let redis = blocklist as? RedisBlocklist else { return problems }
                // Every write reads the published rules first: if that fails, no revocation can be stored.
                do { _ = try await redis.publishedRules(on: redis.eventLoopGroup.any()).get() } catch {
                    problems.append(ReadinessProblem(summary: "blocklist writes fail", detail: "the revocation rules at the prefix's rules key cannot be read: \(error)"))
                }
                if let evicting = try? await redis.evictingMasters(on: redis.eventLoopGroup.any()), !evicting.isEmpty {
                    problems.append(ReadinessProblem(
                        summary: "the blocklist store may evict revocations (maxmemory-policy is not noeviction)",
                        detail: evicting.map { "Redis \($0.endpoint) has maxmemory-policy \($0.policy), which may evict revocations; set noeviction" }
                            .joined(separator: "; ")))
                }
                return problems
            }, refusalLog: refusalLog)

        let http1 = VetoHTTP1Channel.Settings(plane: dataPlane, limits: configuration.limits)
        let application = Application(
            router: controlPlane.router(),
            server: HTTPServerBuilder { responder in VetoHTTP1Channel(responder: responder, settings: http1) },
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: "veto"),
            services: remoteIssuers.isEmpty ? [] : [KeyRefreshService(issuers: remoteIssuers, httpClient: httpClient)],
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
        return Built(application: application, blocklist: blocklist, redisClient: redisClient, refusalLog: refusalLog)
    }

    static func loadKeys(_ issuer: IssuerConfiguration, field: String, logger: Logger) throws -> [VerificationKey] {
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
                throw ConfigurationError("\(field).algorithms", "key \(key.label) is pinned to \(key.algorithm), which is not in the allowed algorithms \(issuer.algorithms.map(\.rawValue))")
            }
        }
        return keys
    }

    /// Publishes the rules for `veto blocklist` writers (RedisBlocklist+Rules), retrying every 10 s
    /// while Redis is down; the service does not wait for it.
    private static func publishRules(_ blocklist: RedisBlocklist, logger: Logger) {
        Task {
            var delay: Duration = .seconds(10)
            while !Task.isCancelled {
                do {
                    try await blocklist.publishRules(on: blocklist.eventLoopGroup.any()).get()
                    return
                } catch {
                    logger.warning("cannot publish the revocation rules to Redis yet; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(300))
            }
        }
    }

    /// Logs an error at start when Redis may evict revocations; /readyz keeps saying so.
    private static func warnIfEvicting(_ blocklist: RedisBlocklist, logger: Logger) {
        Task {
            let evicting: [(endpoint: String, policy: String)]
            do {
                evicting = try await blocklist.evictingMasters(on: blocklist.eventLoopGroup.any())
            } catch {
                logger.warning("cannot read Redis's maxmemory-policy (INFO memory); make sure it is noeviction, or revocations may be evicted",
                               metadata: ["error": "\(error)"])
                return
            }
            for (endpoint, policy) in evicting {
                logger.error("Redis may evict acknowledged revocations under memory pressure: set maxmemory-policy noeviction; /readyz reports not ready until then",
                             metadata: ["redis": .string(endpoint), "maxmemory_policy": .string(policy)])
            }
        }
    }

    static func makeBlocklist(_ configuration: ServiceConfiguration, rules: RevocationRules, eventLoopGroup: any EventLoopGroup,
                              logger: Logger) async throws -> (any Blocklist, RedisClient?) {
        let settings = BlocklistConfiguration(keyPrefix: configuration.keyPrefix, leeway: rules.leeway, maxTokenLifetime: rules.maxTokenLifetime)
        if let url = configuration.redisURL {
            var redis = try configuration.redisOptions.configuration(url: url)
            redis.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeout * 1000))
            redis.clientName = "veto"
            // One connection per event loop of the server's own group: a check and its Redis
            // round trip stay on one thread.
            let client = RedisClient(configuration: redis, eventLoopGroup: eventLoopGroup, logger: logger)
            let blocklist = RedisBlocklist(client: client, configuration: settings)
            publishRules(blocklist, logger: logger)
            warnIfEvicting(blocklist, logger: logger)
            return (blocklist, client)
        }
        let directory = configuration.dataDirectory ?? "veto-data"
        do {
            let store = try await EmbeddedBlocklist.open(directory: directory, configuration: settings, eventLoopGroup: eventLoopGroup, logger: logger)
            return (store, nil)
        } catch {
            throw ConfigurationError("--data-dir", "\(directory): \(error)")
        }
    }
}
