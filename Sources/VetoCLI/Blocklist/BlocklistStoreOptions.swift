import ArgumentParser
import Foundation
import Logging
import VetoCore
import VetoRedis
import VetoServer
import VetoStore

/// Which blocklist a `veto blocklist` command works on, shared by every subcommand.
struct BlocklistStoreOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Redis URL: redis://[user:pass@]host:port/db, rediss://…, redis-sentinel://h1:26379,…/master, redis-cluster://h1:port,… or unix:///path?db=N (default: $VETO_REDIS_URL).",
            valueName: "url"
        ))
    var redis: String?

    @Option(help: ArgumentHelp("The embedded store's data dir, as given to `veto serve --data-dir`.", valueName: "dir"))
    var dataDir: String?

    @OptionGroup var redisFlags: RedisFlags

    @Option(help: "Prefix of every Redis key.")
    var keyPrefix = "veto:"

    @Option(
        help:
            "Seconds a token stays accepted after exp; entries outlive exp by this much. On Redis, at least the leeway the services publish (<prefix>rules); an embedded store applies its service's rules when it loads."
    )
    var leeway: Double = 60

    @Option(help: "Seconds an entry without a known exp lives (plus leeway), and how long a subject cut-off lasts.")
    var maxTokenLifetime: Double = 86_400

    func validate() throws {
        if redis != nil && dataDir != nil {
            throw ValidationError("Give either --redis or --data-dir, not both.")
        }
        guard leeway >= 0, leeway.isFinite else { throw ValidationError("--leeway must be a number of seconds ≥ 0.") }
        guard maxTokenLifetime > 0, maxTokenLifetime.isFinite else {
            throw ValidationError("--max-token-lifetime must be a number of seconds > 0.")
        }
    }

    var configuration: BlocklistConfiguration {
        BlocklistConfiguration(keyPrefix: keyPrefix, leeway: leeway, maxTokenLifetime: maxTokenLifetime)
    }

    /// Opens the store; the caller closes it. Nothing is logged: failures come back as errors and the
    /// command prints them once.
    ///
    /// `readOnly` (ls, show, count): a data dir is read without writing anything, under a shared lock
    /// held only while the journal is read, and must exist.
    func open(readOnly: Bool = false) async throws -> any Blocklist {
        let quiet = Logger(label: "veto.blocklist") { _ in SwiftLogNoOpLogHandler() }
        if let dataDir {
            let store = try await EmbeddedBlocklist.open(directory: dataDir, configuration: configuration, readOnly: readOnly, logger: quiet)
            for warning in store.recovery.warnings { StandardStreams.printError("warning: \(warning)") }
            return store
        }
        guard let redis = try Self.redisConfiguration(url: redis, flags: redisFlags) else {
            throw UsageFailure("No blocklist given: pass --redis URL (or set VETO_REDIS_URL), or --data-dir DIR.")
        }
        // Writes take the larger of these rules and those the services publish (RedisBlocklist+Rules).
        return RedisBlocklist(redis: redis, configuration: configuration, logger: quiet)
    }

    /// The Redis configuration of `--redis URL` (else `$VETO_REDIS_URL`) and the Redis flags; nil when no
    /// URL is given. A bad URL or flag is a usage failure naming it.
    static func redisConfiguration(url flag: String?, flags: RedisFlags) throws -> RedisConfiguration? {
        let environment = ProcessInfo.processInfo.environment["VETO_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = flag ?? environment else { return nil }
        do {
            return try flags.options.configuration(url: url)
        } catch {
            throw UsageFailure("\(error.field): \(error.problem)")
        }
    }
}
