import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VetoCore
import VetoRedis
import VetoServer
import VetoStore

/// `veto blocklist watch`: follows the blocklist feed (`<prefix>feed`, KEYS.md) and prints every
/// change as it is made, in the columns of `ls`, until interrupted.
struct BlocklistWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every change to a Redis blocklist as it is made, until interrupted.",
        discussion: """
            Follows the feed stream (<prefix>feed) that every write to a Redis blocklist
            appends to: revocations, subject cut-offs and removals, made by any `veto
            serve` or `veto blocklist` command. One line per change, in the columns of
            `ls` after a CHANGE column; a subject cut-off shows * as its JTI (every token
            of SUB issued up to the cut-off). --json prints one JSON object per line.

            Starts at the end of the feed (only changes from now on), or with
            --from-start at its oldest entry still kept (about the last 100000).
            Ctrl-C (SIGINT) or SIGTERM stops it with exit status 0. While Redis is
            unreachable it says so on stderr and keeps trying.
            """
    )

    @Option(
        help: ArgumentHelp(
            "Redis URL: redis://[user:pass@]host:port/db, rediss://…, redis-sentinel://h1:26379,…/master, redis-cluster://h1:port,… or unix:///path?db=N (default: $VETO_REDIS_URL).",
            valueName: "url"
        ))
    var redis: String?

    @OptionGroup var redisFlags: RedisFlags

    @Option(help: "Prefix of every Redis key.")
    var keyPrefix = "veto:"

    @Flag(help: "One JSON object per line: feed_id, at, op (revoke, revoke_subject, remove, remove_subject) and the entry.")
    var json = false

    @Flag(help: "Print the changes still in the feed first, then follow.")
    var fromStart = false

    /// How long one XREAD waits on an idle feed; also how soon a signal is noticed.
    static let block = TimeAmount.milliseconds(500)

    func run() async throws {
        let client: RedisClient
        do {
            client = try openClient()
        } catch {
            throw BlocklistRun.exit(for: error)
        }
        let stop = StopSignals()
        let loop = client.eventLoopGroup.next()
        let rows = FeedRows(keyPrefix: keyPrefix, json: json)
        let store = RedisBlocklist(client: client, configuration: BlocklistConfiguration(keyPrefix: keyPrefix))
        do {
            // Writes append to the feed only once it exists: a deployment without a replica has none yet.
            if try await store.createFeed(on: loop).get() {
                StandardStreams.printError("Made the feed \(BlocklistOutput.display(keyPrefix))feed: from now on every write appends to it.")
            }
            var cursor = fromStart ? FeedID.zero : try await lastID(store, on: loop)
            StandardStreams.printError("Watching \(BlocklistOutput.display(keyPrefix))feed after \(cursor); Ctrl-C stops.")
            if !json { Self.write(rows.header) }
            var failing = false
            while !stop.requested {
                let entries: [FeedEntry]
                do {
                    let reply = try await client.send(store.readFeedCommand(after: cursor, count: 1000, block: Self.block), on: loop).get()
                    entries = try FeedEntry.entries(ofXREAD: reply)
                } catch {
                    if !failing { StandardStreams.printError("warning: reading the feed failed (\(error)); retrying.") }
                    failing = true
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
                if failing { StandardStreams.printError("Reading the feed again.") }
                failing = false
                for entry in entries {
                    cursor = entry.id
                    Self.write(rows.line(entry, now: Date().timeIntervalSince1970))
                }
            }
        } catch {
            await client.close()
            throw BlocklistRun.exit(for: error)
        }
        await client.close()
    }

    private func openClient() throws -> RedisClient {
        guard var configuration = try BlocklistStoreOptions.redisConfiguration(url: redis, flags: redisFlags) else {
            throw UsageFailure("No blocklist given: pass --redis URL (or set VETO_REDIS_URL).")
        }
        configuration.commandTimeout = max(configuration.commandTimeout, Self.block + .seconds(1))
        let quiet = Logger(label: "veto.blocklist") { _ in SwiftLogNoOpLogHandler() }
        // One loop, so one connection: a blocked XREAD holds it, and nothing else shares it.
        return RedisClient(configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton.next(), logger: quiet)
    }

    /// The id of the feed's newest entry, so watching starts after it; 0-0 for an empty feed.
    private func lastID(_ store: RedisBlocklist, on loop: any EventLoop) async throws -> FeedID {
        let newest = try await store.client.send(
            RedisCommand("XREVRANGE", [store.feedKey, Array("+".utf8), Array("-".utf8), Array("COUNT".utf8), Array("1".utf8)]), on: loop
        )
        .get()
        return try FeedEntry.entries(ofXRANGE: newest).last?.id ?? .zero
    }

    /// Unbuffered, so a line is out as soon as the change is read (also into a pipe).
    private static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// SIGINT and SIGTERM set a flag the watch loop reads after each XREAD (at most ``BlocklistWatchCommand/block`` later).
///
/// `@unchecked Sendable`: `sources` is written only in `init` (and read by `deinit`); the flag is a `Mutex`.
private final class StopSignals: @unchecked Sendable {
    private let flag = Mutex(false)
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.flag.withLock { $0 = true } }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    var requested: Bool { flag.withLock { $0 } }
}

/// One feed entry as watch shows it: a row in the columns of `ls` after a CHANGE column, or a JSON line.
private struct FeedRows {
    let keyPrefix: String
    let json: Bool

    /// Minimum widths: rows are printed one at a time, so a wider cell shifts only its own line.
    private static let widths = [14, 20, 26, 12, 24, 24]

    var header: String { Self.row(["CHANGE", "JTI", "ISS", "SUB", "REASON", "REVOKED AT", "EXPIRES"]) }

    /// An entry Veto did not write comes out as `unreadable` (``FeedEntry/entries(ofXREAD:)`` keeps it).
    func line(_ entry: FeedEntry, now: Double) -> String {
        let change = entry.change(keyPrefix: keyPrefix)
        return json ? jsonLine(change, id: entry.id.description) : textLine(change, now: now)
    }

    private func textLine(_ change: FeedChange, now: Double) -> String {
        let show = BlocklistOutput.display
        return switch change {
        case .revoke(let entry):
            Self.row([
                "revoke", show(entry.jti), show(entry.issuer), entry.subject.map(show) ?? "-", show(entry.reason),
                UTCTime.iso8601(entry.revokedAt), HumanDuration.relative(entry.entryExpiresAt, now: now)
            ])
        case .cutoff(let cutoff):
            Self.row([
                cutoff.kind == .subject ? "cut-off" : "cut-off \(cutoff.kind)", "*", show(cutoff.issuer),
                cutoff.kind == .issuer ? "*" : show(cutoff.value), show(cutoff.reason), UTCTime.iso8601(cutoff.revokedAt),
                HumanDuration.relative(cutoff.entryExpiresAt, now: now)
            ])
        case .remove(let issuer, let jti): Self.row(["remove", show(jti), show(issuer), "-", "-", "-", "-"])
        case .removeCutoff(let issuer, let kind, let value):
            Self.row([
                kind == .subject ? "remove cut-off" : "remove cut-off \(kind)", "*", show(issuer), kind == .issuer ? "*" : show(value), "-", "-",
                "-"
            ])
        case .unreadable(let key, let problem): Self.row(["unreadable", show(key), "-", "-", show(problem), "-", "-"])
        }
    }

    private func jsonLine(_ change: FeedChange, id: String) -> String {
        var members: [JSONObject.Member] = [.init(name: "feed_id", value: .string(id))]
        if let time = FeedID(id)?.time { members.append(.init(name: "at", value: .string(UTCTime.iso8601(time)))) }
        func op(_ name: String, _ rest: [JSONObject.Member]) { members += [.init(name: "op", value: .string(name))] + rest }
        switch change {
        case .revoke(let entry): op("revoke", RevocationJSON.entry(entry).members)
        case .cutoff(let cutoff): op(cutoff.kind == .subject ? "revoke_subject" : "cutoff", RevocationJSON.cutoff(cutoff).members)
        case .remove(let issuer, let jti): op("remove", [.init(name: "iss", value: .string(issuer)), .init(name: "jti", value: .string(jti))])
        case .removeCutoff(let issuer, .subject, let subject):
            op("remove_subject", [.init(name: "iss", value: .string(issuer)), .init(name: "sub", value: .string(subject))])
        case .removeCutoff(let issuer, let kind, let value):
            op(
                "remove_cutoff",
                [
                    .init(name: "iss", value: .string(issuer)), .init(name: "by", value: .string(kind.rawValue)),
                    .init(name: "value", value: .string(value))
                ])
        case .unreadable(let key, let problem):
            op("unreadable", [.init(name: "key", value: .string(key)), .init(name: "problem", value: .string(problem))])
        }
        return JSONWriter.compact(.object(JSONObject(members: members)))
    }

    private static func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in index < widths.count ? cell.padded(to: widths[index]) : cell }.joined(separator: "  ")
    }
}
