import Logging
import NIOCore
import VetoCore
import VetoRedis

extension BlocklistReplica {
    /// Replays this much of the feed before the cursor after a load: in a cluster a revocation's feed
    /// entry is written just before its key, so a scan may pass the key before it exists.
    static let replayWindowMilliseconds: UInt64 = 5_000
    /// Keys per SCAN call.
    static let scanCount = 2_000

    /// Loads every key into a new state and swaps it in; returns the cursor to follow the feed from.
    func resync(_ reason: ReplicaResync.Reason) async throws -> (cursor: FeedID, loadedAt: FeedID, masters: [String]) {
        let started = NIODeadline.now()
        // The feed first (writes append to it only once it exists), then its last id, then the keys: a
        // write either reached the feed after that id or its key before the scan.
        if try await blocklist.createFeed(on: loop).get() {
            logger.notice(
                "replica made the blocklist feed: from now on every write appends to it",
                metadata: ["key": "\(BlocklistKeys.display(blocklist.feedKey))"])
            // In a cluster a write's feed entry goes first and its key a round trip later: a write that
            // found no feed just now may still be landing its key. Let it land before the scan.
            if !blocklist.feedInScript {
                try await Task.sleep(nanoseconds: UInt64(blocklist.client.configuration.commandTimeout.nanoseconds) + 100_000_000)
            }
        }
        // The feed's last id before the scan (XINFO's last-generated-id, which a trimmed or emptied feed
        // keeps): entries after it are replayed on top of what the scan finds.
        let head = try await feedInfo().lastGenerated
        let cursor = FeedID(
            milliseconds: head.milliseconds > Self.replayWindowMilliseconds ? head.milliseconds - Self.replayWindowMilliseconds : 0, sequence: 0)
        var state = ReplicaState(keys: blocklist.keys)
        let handles = try await follower.masters(on: loop).get()
        let masters = Self.endpoints(of: handles)
        for master in handles {
            try await load(from: master, into: &state)
        }
        let entries = state.count
        let resyncs = swapIn(state)
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        logger.notice(
            "replica loaded",
            metadata: ["reason": "\(reason.rawValue)", "entries": "\(entries)", "seconds": "\(seconds)", "resyncs": "\(resyncs)"])
        observer.resynced(reason.rawValue)
        return (cursor, head, masters)
    }

    /// SCAN one master for the blocklist's keys and read each one's TTL (and a cut-off's value). Each
    /// round trip carries the reads of the keys the last SCAN found and the next SCAN: one round trip
    /// per batch of keys.
    private func load(from master: RedisServerHandle, into state: inout ReplicaState) async throws {
        let pattern = blocklist.keys.everything
        var scanCursor: [UInt8]? = Array("0".utf8)
        var pending: [(key: [UInt8], kind: BlocklistKeys.Kind)] = []
        while scanCursor != nil || !pending.isEmpty {
            var commands: [RedisCommand] = []
            for (key, kind) in pending {
                commands.append(RedisCommand("PTTL", [key]))
                if kind != .token { commands.append(RedisCommand("GET", [key])) }
            }
            if let scanCursor {
                commands.append(
                    RedisCommand("SCAN", [scanCursor, Array("MATCH".utf8), pattern, Array("COUNT".utf8), Array(String(Self.scanCount).utf8)]))
            }
            let replies = await master.results(of: commands, on: loop)
            let now = WallClock.now()
            var index = 0
            for (key, kind) in pending {
                let ttl = try replies[index].get().integer ?? -2
                index += 1
                var value: [UInt8] = []
                if kind != .token {
                    value = try replies[index].get().bytes ?? []
                    index += 1
                }
                // -2: gone since the scan saw it.
                guard ttl != -2 else { continue }
                state.apply(key: key, .set(value: value, ttlMilliseconds: ttl), now: now)
            }
            pending = []
            guard scanCursor != nil else { break }
            guard let parts = try replies[index].get().array, parts.count == 2, let next = parts[0].bytes, let found = parts[1].array else {
                throw ReplicaResync(.regressed, "SCAN gave an unreadable reply")
            }
            for item in found {
                guard let key = item.bytes, let (kind, _, _) = blocklist.keys.parse(key) else { continue }
                pending.append((key, kind))
            }
            scanCursor = next == Array("0".utf8) ? nil : next
        }
    }
}

/// Why a replica loads everything again.
struct ReplicaResync: Error, Sendable {
    enum Reason: String, Sendable {
        /// The first load.
        case start
        /// The feed connection failed (Redis restarted, a failover, a timeout).
        case reconnect
        /// The feed was trimmed past the cursor: entries may have been missed.
        case trimmed
        /// The feed is behind the cursor, or gone (a failover to a lagging replica, a flush).
        case regressed
        /// The masters changed: a Sentinel failover, or a cluster that gained or lost a master.
        case topology
        /// The feed holds an entry Veto did not write, after the last load.
        case unreadable
    }

    var reason: Reason
    var detail: String

    init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

/// What a replica reports (`/readyz`, metrics).
package struct ReplicaSnapshot: Sendable, Equatable {
    /// Loaded and proved current at least once.
    package var loaded: Bool
    /// Seconds since the last proof of currency; infinity before the first.
    package var staleness: Double
    package var maxStaleness: Double
    package var entries: Int
    package var resyncs: Int

    /// `loading` before the first load, `current` within the bound, else `stale` (checks then ask Redis).
    package var state: String { !loaded ? "loading" : staleness <= maxStaleness ? "current" : "stale" }
}

/// Hooks for metrics; VetoStore has no metrics of its own.
package struct ReplicaObserver: Sendable {
    /// A full load finished, with its reason (`start`, `reconnect`, `trimmed`, `regressed`, `topology`, `unreadable`).
    package var resynced: @Sendable (_ reason: String) -> Void = { _ in }
    /// A feed entry was applied this long after Redis added it.
    package var applied: @Sendable (_ propagationSeconds: Double) -> Void = { _ in }
    /// After every round of following (for gauges).
    package var cycled: @Sendable (_ snapshot: ReplicaSnapshot) -> Void = { _ in }
    /// A check was answered from memory (`true`) or by Redis (`false`).
    package var answered: @Sendable (_ fromReplica: Bool) -> Void = { _ in }

    package init() {}
}
