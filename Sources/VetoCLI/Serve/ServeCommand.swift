import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import VetoCore
import VetoGRPC
import VetoServer
import VetoSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the revocation service: /v1/check for gateways, /v1/revoke for logout, and the admin API.",
        discussion: """
            Flags cover the single-issuer case; --config FILE (YAML) covers several issuers.
            Flags override the file. Secrets come from files or environment variables:
            --admin-token-file or VETO_ADMIN_TOKEN, --redis-password-file or VETO_REDIS_PASSWORD.
            Without --redis, revocations live in the embedded store (journal in --data-dir).

            Examples:
              veto serve --issuer https://auth.example.com --audience https://api.example.com \\
                  --key RS256:pub.pem --data-dir ./data
              veto serve --issuer https://auth.example.com --jwks-url https://auth.example.com/.well-known/jwks.json \\
                  --redis redis://127.0.0.1:6379/0 --admin-token-file admin.token
              veto serve --config veto.yaml
            """
    )

    @Option(help: "Configuration file (YAML) for several issuers and every setting.")
    var config: String?

    @Option(help: ArgumentHelp("Address to listen on (default 127.0.0.1:8080).", valueName: "HOST:PORT"))
    var listen: String?

    @Option(
        help: ArgumentHelp(
            "Also serve Envoy's gRPC ext_authz (envoy.service.auth.v3.Authorization/Check) and grpc.health.v1 over h2c here.",
            valueName: "HOST:PORT"))
    var grpcListen: String?

    @Flag(help: "On a gRPC allow, ask Envoy to remove the Authorization header before the request goes upstream.")
    var grpcStripAuthorization = false

    @Option(
        name: .customLong("grpc-tls-cert"),
        help: ArgumentHelp("Serve gRPC over TLS with this PEM certificate chain (with --grpc-tls-key).", valueName: "FILE"))
    var grpcTLSCertificate: String?

    @Option(name: .customLong("grpc-tls-key"), help: ArgumentHelp("The PEM private key of --grpc-tls-cert.", valueName: "FILE"))
    var grpcTLSKey: String?

    @Option(
        help: ArgumentHelp(
            "Redis URL: redis://[user@]host:port/db, rediss://… (TLS), redis-sentinel://h1:26379,h2:26379/master, redis-cluster://h1:port,h2:port or unix:///path?db=N (env VETO_REDIS_URL). Without it, the embedded store is used.",
            valueName: "URL"))
    var redis: String?

    @Option(help: ArgumentHelp("File holding the Redis password (env VETO_REDIS_PASSWORD).", valueName: "FILE"))
    var redisPasswordFile: String?

    @OptionGroup var redisFlags: RedisFlags

    @Option(help: ArgumentHelp("Directory of the embedded store's journal.", valueName: "DIR"))
    var dataDir: String?

    @Option(help: "The issuer (iss) whose tokens are accepted.")
    var issuer: String?

    @Option(help: "An accepted audience (aud). Repeatable.")
    var audience: [String] = []

    @Option(name: .customLong("key"), help: ArgumentHelp("A verification key, [ALG:]FILE. Repeatable.", valueName: "[ALG:]FILE"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("The issuer's JWKS URL, fetched at start and refreshed.", valueName: "URL"))
    var jwksURL: String?

    @Flag(help: "Find the JWKS through {issuer}/.well-known/openid-configuration.")
    var discovery = false

    @Flag(help: "Allow a plain-http JWKS or discovery URL on a host other than loopback (anyone on the path could swap the keys).")
    var allowInsecureJWKS = false

    @Option(help: "Clock skew tolerated on exp, nbf and iat, in seconds (default 60).")
    var leeway: Double?

    @Option(name: .customLong("require"), help: ArgumentHelp("A claim tokens must carry. Repeatable (default: exp, jti).", valueName: "CLAIM"))
    var required: [String] = []

    @Option(help: "The required typ header, e.g. at+jwt.")
    var typ: String?

    @Option(
        name: .customLong("claim-header"),
        help: ArgumentHelp("Copy a claim into a response header on allow: HEADER=CLAIM. Repeatable.", valueName: "HEADER=CLAIM"))
    var claimHeaders: [String] = []

    @Option(help: ArgumentHelp("File holding the admin API bearer token (env VETO_ADMIN_TOKEN).", valueName: "FILE"))
    var adminTokenFile: String?

    @Flag(help: "Let tokens through (marked X-Veto-Degraded) when the store is down. Off by default: fail closed.")
    var failOpen = false

    @Option(help: "Event-loop threads (default: the CPUs this process may use: its affinity mask and cgroup CPU quota).")
    var threads: Int?

    @Option(
        help: ArgumentHelp(
            "Verified tokens to remember on each event-loop thread, so repeated checks skip signature work (default 16384; 0: off). Revocation is checked every time.",
            valueName: "N"))
    var verifyCacheSize: Int?

    @Option(
        help: ArgumentHelp(
            "Let gateways that cache auth answers keep an allow this long: Cache-Control: private, max-age=N, N at most the token's remaining lifetime (and max-staleness when bounded). A revoked token can pass a caching gateway that long. Default 0: no-store.",
            valueName: "SECONDS"))
    var cacheHint: Int?

    @Option(help: "Log format: text or json.")
    var logFormat: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(
        help: ArgumentHelp(
            "Refusals logged per reason and second (on each event-loop thread); the rest are summed up in one \"suppressed N\" line. 0: none. Metrics count every refusal (default 10).",
            valueName: "N"))
    var logRefusalsPerSecond: Int?

    @Option(
        help: ArgumentHelp(
            "strict: every check asks the store (default). bounded: checks read a local replica of the Redis blocklist, at most --max-staleness behind.",
            valueName: "strict|bounded"))
    var consistency: String?

    @Option(help: ArgumentHelp("With bounded consistency, how far behind Redis the replica may answer (default 1).", valueName: "SECONDS"))
    var maxStaleness: Double?

    func run() async throws {
        let configuration: ServiceConfiguration
        do {
            configuration = try merged(environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigurationError {
            StandardStreams.printError("error: configuration: \(error)")
            throw ExitCode(2)
        }
        let logger = ServeLogging.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads(configuration, logger: logger))
        do {
            let built = try await VetoService.build(
                configuration, logger: logger, eventLoopGroup: group,
                onServerRunning: { channel in
                    let address = channel.localAddress.flatMap { address in
                        address.port.map { ListenAddress(host: address.ipAddress ?? configuration.listen.host, port: $0) }
                    }
                    logger.notice(
                        "veto \(VetoCommand.version) listening on http://\(address ?? configuration.listen)",
                        metadata: [
                            "store": .string(configuration.redisURL.map { _ in "redis" } ?? "embedded"),
                            "issuers": .array(configuration.issuers.map { .string($0.issuer) })
                        ])
                },
                frontDoors: { gate in
                    guard let address = configuration.grpcListen else { return [] }
                    return [
                        GRPCFrontDoor(
                            gate: gate, address: address, stripAuthorization: configuration.grpcStripAuthorization,
                            tls: configuration.grpcTLSCertificateFile.flatMap { certificate in
                                configuration.grpcTLSKeyFile.map { GRPCFrontDoor.TLSFiles(certificateChain: certificate, privateKey: $0) }
                            },
                            settings: GRPCSettings(limits: configuration.limits), eventLoopGroup: group, logger: logger)
                    ]
                },
                addOns: { context in [try await Signals.addOn(context)] })
            try await built.run()
        } catch let error as ConfigurationError {
            StandardStreams.printError("error: configuration: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(2)
        }
        try? await group.shutdownGracefully()
    }

    /// `--threads` (or the file's `threads`), else the CPUs this process may use; logged with the reason.
    private func eventLoopThreads(_ configuration: ServiceConfiguration, logger: Logger) -> Int {
        if let threads = configuration.threads {
            logger.notice("event-loop threads: \(threads)", metadata: ["threads": "\(threads)", "reason": "configured (--threads or threads)"])
            return threads
        }
        let usable = UsableCPUs.ofThisProcess()
        logger.notice(
            "event-loop threads: \(usable.count), the CPUs this process may use",
            metadata: ["threads": "\(usable.count)", "reason": .string(usable.reason)])
        return usable.count
    }

    /// The config file, then the environment, then flags: later sources override earlier ones.
    func merged(environment: [String: String]) throws -> ServiceConfiguration {
        var configuration = try config.map { try ConfigurationFile.load(path: $0, environment: environment) } ?? ServiceConfiguration()
        if let listen {
            guard let address = ListenAddress(parsing: listen) else { throw ConfigurationError("--listen", "\"\(listen)\" is not HOST:PORT") }
            configuration.listen = address
        }
        if let grpcListen {
            guard let address = ListenAddress(parsing: grpcListen) else {
                throw ConfigurationError("--grpc-listen", "\"\(grpcListen)\" is not HOST:PORT")
            }
            configuration.grpcListen = address
        }
        if grpcStripAuthorization { configuration.grpcStripAuthorization = true }
        if let grpcTLSCertificate { configuration.grpcTLSCertificateFile = grpcTLSCertificate }
        if let grpcTLSKey { configuration.grpcTLSKeyFile = grpcTLSKey }
        for (flag, file) in [("--grpc-tls-cert", configuration.grpcTLSCertificateFile), ("--grpc-tls-key", configuration.grpcTLSKeyFile)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) { throw ConfigurationError(flag, "cannot read \(file)") }
        }
        if let url = redis ?? environment["VETO_REDIS_URL"] {
            if redis != nil, RedisURL.hasPassword(url) {
                throw ConfigurationError(
                    "--redis",
                    "the URL holds a password, which other users can read in the process list; use --redis-password-file or VETO_REDIS_PASSWORD")
            }
            configuration.redisURL = url
        }
        if let file = redisPasswordFile {
            configuration.redisURL = try RedisURL.withPassword(
                try required(configuration.redisURL, "--redis-password-file needs --redis"),
                password: SecretSource.file(file, field: "--redis-password-file"), field: "--redis-password-file")
        } else if let password = environment["VETO_REDIS_PASSWORD"], !password.isEmpty, let url = configuration.redisURL {
            configuration.redisURL = try RedisURL.withPassword(url, password: password, field: "VETO_REDIS_PASSWORD")
        }
        configuration.redisOptions.merge(redisFlags.options)
        if let dataDir { configuration.dataDirectory = dataDir }
        if let file = adminTokenFile {
            configuration.adminToken = try SecretSource.file(file, field: "--admin-token-file")
        } else if let token = environment["VETO_ADMIN_TOKEN"], !token.isEmpty {
            configuration.adminToken = token
        }
        if let token = configuration.adminToken, token.utf8.count < 16 {
            throw ConfigurationError(
                adminTokenFile != nil ? "--admin-token-file" : "admin token",
                "is \(token.utf8.count) characters; use at least 16 random characters (e.g. openssl rand -hex 32)")
        }
        if failOpen { configuration.failOpen = true }
        if let threads {
            guard threads > 0 else { throw ConfigurationError("--threads", "must be at least 1") }
            configuration.threads = threads
        }
        if let verifyCacheSize {
            guard verifyCacheSize >= 0, verifyCacheSize <= ServiceConfiguration.maxVerifyCacheSize else {
                throw ConfigurationError("--verify-cache-size", "must be from 0 (off) to \(ServiceConfiguration.maxVerifyCacheSize)")
            }
            configuration.verifyCacheSize = verifyCacheSize
        }
        if let cacheHint {
            guard (0...ServiceConfiguration.maxCacheHint).contains(cacheHint) else {
                throw ConfigurationError("--cache-hint", "must be from 0 (no-store) to \(ServiceConfiguration.maxCacheHint) seconds")
            }
            configuration.cacheHint = cacheHint
        }
        if let logRefusalsPerSecond {
            guard logRefusalsPerSecond >= 0 else { throw ConfigurationError("--log-refusals-per-second", "must be zero (log none) or more") }
            configuration.logRefusalsPerSecond = logRefusalsPerSecond
        }
        if let logFormat {
            guard let format = ServiceConfiguration.LogFormat(rawValue: logFormat) else {
                throw ConfigurationError("--log-format", "\"\(logFormat)\" is not text or json")
            }
            configuration.logFormat = format
        }
        if let logLevel {
            guard Logger.Level(rawValue: logLevel) != nil else { throw ConfigurationError("--log-level", "\"\(logLevel)\" is not a log level") }
            configuration.logLevel = logLevel
        }
        if let consistency { configuration.consistency = try ServiceConfiguration.consistency(consistency, field: "--consistency") }
        if let maxStaleness { configuration.maxStaleness = try ServiceConfiguration.maxStaleness(maxStaleness, field: "--max-staleness") }
        let issuerFlagsGiven =
            !audience.isEmpty || !keys.isEmpty || jwksURL != nil || discovery || allowInsecureJWKS || leeway != nil || !required.isEmpty || typ != nil
            || !claimHeaders.isEmpty
        if let issuer {
            var entry = configuration.issuers.first { $0.issuer.hasSameBytes(as: issuer) } ?? IssuerConfiguration(issuer: issuer)
            if !audience.isEmpty { entry.audiences = audience }
            if !keys.isEmpty {
                for key in keys {
                    let (algorithm, path) = try KeyFiles.split(key)
                    entry.keys.append(algorithm.map { "\($0.rawValue):\(path)" } ?? path)
                }
            }
            if let jwksURL { entry.jwksURL = jwksURL }
            if discovery { entry.discovery = true }
            if allowInsecureJWKS { entry.allowInsecureJWKS = true }
            if let leeway {
                guard leeway >= 0 else { throw ConfigurationError("--leeway", "must be zero or more seconds") }
                entry.leeway = leeway
            }
            if !required.isEmpty { entry.requiredClaims = required }
            if let typ { entry.requiredType = typ }
            for mapping in claimHeaders {
                let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ConfigurationError("--claim-header", "\"\(mapping)\" is not HEADER=CLAIM")
                }
                entry.claimHeaders.append(.init(header: parts[0], claim: parts[1]))
            }
            if let index = configuration.issuers.firstIndex(where: { $0.issuer.hasSameBytes(as: issuer) }) {
                configuration.issuers[index] = entry
            } else {
                configuration.issuers.append(entry)
            }
        } else if issuerFlagsGiven {
            throw ConfigurationError("--issuer", "is required with --audience, --key, --jwks-url, --leeway, --require, --typ or --claim-header")
        }
        try configuration.checkConsistency()
        return configuration
    }

    private func required<T>(_ value: T?, _ message: String) throws -> T {
        guard let value else { throw ConfigurationError("flags", message) }
        return value
    }
}
