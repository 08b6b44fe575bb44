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
package enum VetoService {
    /// What `build` returns: the application to run, and the parts tests look at.
    package struct Built: Sendable {
        package let application: Application<RouterResponder<BasicRequestContext>>
        package let blocklist: any Blocklist
        let redisClient: RedisClient?
        /// Its once-a-second summary timers stop with the store.
        var refusalLog: RefusalLog?

        /// Serves until SIGTERM or SIGINT, drains in-flight requests, then closes the store.
        package func run() async throws {
            do {
                try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                await close()
                throw error
            }
            await close()
        }

        /// Closes the store once the application has stopped (after in-flight requests drained).
        package func close() async {
            refusalLog?.stop()
            await blocklist.close()
            if let redisClient { await redisClient.close() }
        }
    }

    package static func build(
        _ configuration: ServiceConfiguration, logger: Logger, eventLoopGroup: any EventLoopGroup,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in },
        frontDoors: @Sendable (GatewayCheck) throws -> [any Service] = { _ in [] },
        addOns: @Sendable (ServiceAddOnContext) async throws -> [ServiceAddOn] = { _ in [] }
    ) async throws -> Built {
        guard !configuration.issuers.isEmpty else {
            throw ConfigurationError("issuers", "no issuer is configured: give --issuer ISS with --key or --jwks-url, or issuers: in --config")
        }
        let metrics = ServiceMetrics()
        let assembled = try IssuerAssembly(configuration, metrics: metrics, eventLoopGroup: eventLoopGroup, logger: logger)
        let maxLeeway = configuration.issuers.map(\.leeway).max() ?? IssuerPolicy.defaultLeeway
        let rules = RevocationRules(leeway: maxLeeway, maxTokenLifetime: configuration.maxTokenLifetime)
        let (blocklist, redisClient) = try await makeBlocklist(
            configuration, rules: rules, metrics: metrics, eventLoopGroup: eventLoopGroup, logger: logger)

        // Fetch remote keys before listening; a provider that is down only delays readiness.
        await withTaskGroup(of: Void.self) { group in
            for keys in assembled.remoteKeys {
                group.addTask {
                    do { try await keys.refresh() } catch { logger.warning("initial JWKS fetch failed for \(keys.issuer): \(error)") }
                }
            }
        }
        var dependencies = CheckEngine.Dependencies(
            issuers: assembled.issuers, blocklist: blocklist,
            clock: { Date().timeIntervalSince1970 }, digest: { Hex.encode(Digest.sha256($0)) })
        dependencies.failOpen = configuration.failOpen
        dependencies.caches = VerificationCaches(capacity: configuration.verifyCacheSize, eventLoopGroup: eventLoopGroup)
        dependencies.tokenDigest = { VerificationCache.Key(digest: Digest.sha256($0)) }
        dependencies.cacheHits = metrics.verifyCacheHits
        dependencies.cacheMisses = metrics.verifyCacheMisses
        dependencies.identityHeaderBudget = configuration.limits.identityHeaderBytes
        let engine = CheckEngine(dependencies)
        let responder = CheckResponder(retryAfter: configuration.retryAfter)
        let refusalLog = RefusalLog(limit: configuration.logRefusalsPerSecond, logger: logger, eventLoops: Array(eventLoopGroup.makeIterator()))
        refusalLog.start()
        let dataPlane = DataPlane(
            engine: engine, responder: responder, blocklist: blocklist, metrics: metrics, logger: logger,
            limits: configuration.limits, refusalLog: refusalLog,
            cacheHint: CacheHint(
                seconds: configuration.cacheHint,
                staleness: configuration.consistency == .bounded ? Int(configuration.maxStaleness.rounded(.down)) : nil))
        let extensions = try await addOns(
            ServiceAddOnContext(
                configuration: configuration, issuers: assembled.issuers, blocklist: blocklist, metricsFactory: metrics.factory,
                logger: logger, eventLoopGroup: eventLoopGroup))
        var controlPlane = ControlPlane(
            engine: engine, blocklist: blocklist,
            credentials: Credentials(adminToken: configuration.adminToken, clients: configuration.clients),
            metrics: metrics, limits: configuration.limits, logger: logger, eventLoopGroup: eventLoopGroup,
            readiness: { await Readiness.problems(issuers: assembled.issuers, blocklist: blocklist) }, refusalLog: refusalLog)
        controlPlane.addOnRoutes = extensions.map(\.routes)

        // Other front doors (the gRPC ext_authz server) run beside the HTTP server, on the same engine.
        var services: [any Service] = try frontDoors(GatewayCheck(plane: dataPlane))
        services += extensions.flatMap(\.services)
        if !assembled.remoteKeys.isEmpty {
            services.append(KeyRefreshService(issuers: assembled.remoteKeys, httpClient: assembled.httpClient))
        }
        let http1 = VetoHTTP1Channel.Settings(plane: dataPlane, limits: configuration.limits)
        let application = Application(
            router: controlPlane.router(),
            server: HTTPServerBuilder { responder in VetoHTTP1Channel(responder: responder, settings: http1) },
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: "veto"),
            services: services,
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
        return Built(application: application, blocklist: blocklist, redisClient: redisClient, refusalLog: refusalLog)
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
                logger.warning(
                    "cannot read Redis's maxmemory-policy (INFO memory); make sure it is noeviction, or revocations may be evicted",
                    metadata: ["error": "\(error)"])
                return
            }
            for (endpoint, policy) in evicting {
                logger.error(
                    "Redis may evict acknowledged revocations under memory pressure: set maxmemory-policy noeviction; /readyz reports not ready until then",
                    metadata: ["redis": .string(endpoint), "maxmemory_policy": .string(policy)])
            }
        }
    }

    static func makeBlocklist(
        _ configuration: ServiceConfiguration, rules: RevocationRules, metrics: ServiceMetrics, eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> (any Blocklist, RedisClient?) {
        try configuration.checkConsistency()
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
            guard configuration.consistency == .bounded else { return (blocklist, client) }
            let replica = BlocklistReplica(
                blocklist: blocklist, maxStaleness: configuration.maxStaleness, observer: metrics.replicaObserver(), logger: logger)
            replica.start()
            return (ReplicatedBlocklist(redis: blocklist, replica: replica), client)
        }
        let directory = configuration.dataDirectory ?? "veto-data"
        do {
            let store = try await EmbeddedBlocklist.open(
                directory: directory, configuration: settings, eventLoopGroup: eventLoopGroup, logger: logger)
            return (store, nil)
        } catch {
            throw ConfigurationError("--data-dir", "\(directory): \(error)")
        }
    }
}
