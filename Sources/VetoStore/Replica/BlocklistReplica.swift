import Logging
import NIOConcurrencyHelpers
import NIOCore
import VetoCore
import VetoRedis

/// A local copy of the Redis blocklist that checks read from memory (`--consistency bounded`).
///
/// It loads every key (SCAN on every master), then follows the feed (`XREAD BLOCK` on a connection of
/// its own) from a cursor taken before the scan. It is *current* while its last proof, a successful XREAD
/// round trip that reached the end of the feed, is at most `maxStaleness` old; otherwise
/// ``answer(_:now:)`` returns nil and the caller asks Redis (ARCHITECTURE.md,
/// "The replica"). It loads again, into a new state swapped in whole, on start, after any error
/// (reconnect, failover), when the feed was trimmed past its cursor, and when the feed went backwards.
package final class BlocklistReplica: Sendable {
    private struct Shared: Sendable {
        var state: ReplicaState
        var loaded = false
        /// When the last proof's XREAD was sent (uptime ns); 0: never.
        var lastProof: UInt64 = 0
        var resyncs = 0
    }

    package let maxStaleness: Double
    let blocklist: RedisBlocklist
    let follower: RedisClient
    let loop: any EventLoop
    let observer: ReplicaObserver
    let logger: Logger
    private let shared: NIOLockedValueBox<Shared>
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// Entries per XREAD, and the wait of an XREAD on an idle feed: short enough to prove currency
    /// several times per `maxStaleness`, within the command timeout.
    static let readCount = 1000
    var block: TimeAmount {
        let quarter = TimeAmount.nanoseconds(Int64(maxStaleness * 250_000_000))
        let ceiling = min(TimeAmount.milliseconds(250), .nanoseconds(follower.configuration.commandTimeout.nanoseconds / 2))
        return max(.milliseconds(5), min(quarter, ceiling))
    }

    package init(blocklist: RedisBlocklist, maxStaleness: Double, observer: ReplicaObserver = ReplicaObserver(), logger: Logger) {
        self.blocklist = blocklist
        self.maxStaleness = maxStaleness
        self.observer = observer
        self.logger = logger
        self.loop = blocklist.eventLoopGroup.next()
        var configuration = blocklist.client.configuration
        configuration.replicasToConfirm = 0
        configuration.clientName = configuration.clientName.map { "\($0)-replica" }
        // Reconnect soon after Redis comes back: the replica is stale until it does.
        configuration.maxReconnectDelay = min(configuration.maxReconnectDelay, .milliseconds(200))
        self.follower = RedisClient(configuration: configuration, eventLoopGroup: loop, logger: logger)
        self.shared = NIOLockedValueBox(Shared(state: ReplicaState(keys: blocklist.keys)))
    }

    package func start() {
        task.withLockedValue { task in
            guard task == nil else { return }
            task = Task { await self.run() }
        }
    }

    package func stop() async {
        let running = task.withLockedValue { $0 }
        running?.cancel()
        await running?.value
        await follower.close()
    }

    // MARK: Checks

    /// The status from memory, or nil when the replica is not current (the caller asks Redis).
    func answer(_ query: RevocationQuery, now: Double) -> Result<ReplicaState.Answer, StoreError>? {
        let uptime = NIODeadline.now().uptimeNanoseconds
        return shared.withLockedValue { shared in
            guard shared.loaded, Self.seconds(from: shared.lastProof, to: uptime) <= maxStaleness else { return nil }
            return Result { () throws(StoreError) in try shared.state.status(query, now: now) }
        }
    }

    /// A revocation the replica knows of, however stale it is: when Redis cannot be asked, a token the
    /// replica saw revoked is still refused (only a removal could have changed that, and refusing it a
    /// little longer is the safe side). nil when the replica knows no revocation of this token.
    func knownRevocation(_ query: RevocationQuery, now: Double) -> RevocationStatus? {
        shared.withLockedValue { shared -> RevocationStatus? in
            guard shared.loaded else { return nil }
            switch try? shared.state.status(query, now: now) {
            case .tokenRevoked?: return .tokenRevoked(nil)
            case .cutOff(let cutoff)?: return .cutOff(cutoff)
            case .notRevoked?, nil: return nil
            }
        }
    }

    /// Applies this instance's own acknowledged write at once (the feed brings it again, harmlessly).
    func applyOwnWrite(key: [UInt8], _ operation: FeedEntry.Operation) {
        let now = WallClock.now()
        shared.withLockedValue { $0.state.apply(key: key, operation, now: now) }
    }

    package var snapshot: ReplicaSnapshot {
        let uptime = NIODeadline.now().uptimeNanoseconds
        return shared.withLockedValue { shared in
            ReplicaSnapshot(
                loaded: shared.loaded && shared.lastProof != 0,
                staleness: shared.lastProof == 0 ? .infinity : Self.seconds(from: shared.lastProof, to: uptime),
                maxStaleness: maxStaleness, entries: shared.state.count, resyncs: shared.resyncs)
        }
    }

    /// The masters' endpoints, as the follower's client knows them (no round trip once known).
    func masters() async throws -> [String] {
        Self.endpoints(of: try await follower.masters(on: loop).get())
    }

    static func endpoints(of masters: [RedisServerHandle]) -> [String] {
        masters.map { "\($0.endpoint)" }.sorted()
    }

    static func seconds(from start: UInt64, to end: UInt64) -> Double {
        start == 0 ? .infinity : Double(end &- start) / 1e9
    }

    // MARK: Following

    private func run() async {
        var cursor: FeedID?
        var loadedAt = FeedID.zero
        var masters: [String] = []
        var reason = ReplicaResync.Reason.start
        var backoff = TimeAmount.milliseconds(20)
        while !Task.isCancelled {
            do {
                if cursor == nil { (cursor, loadedAt, masters) = try await resync(reason) }
                cursor = try await follow(from: cursor ?? .zero, loadedAt: loadedAt, masters: masters)
                backoff = .milliseconds(20)
            } catch let resync as ReplicaResync {
                logger.warning("replica resyncing", metadata: ["reason": "\(resync.reason.rawValue)", "detail": "\(resync.detail)"])
                cursor = nil
                reason = resync.reason
                // A feed that keeps asking for loads (a hostile or broken one) is not obeyed in a tight loop.
                try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
                backoff = min(backoff * 2, .seconds(1))
            } catch {
                if Task.isCancelled { return }
                if cursor != nil { logger.warning("replica lost the feed; it will load again", metadata: ["error": "\(error)"]) }
                cursor = nil
                reason = .reconnect
                try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
                backoff = min(backoff * 2, .milliseconds(200))
            }
            observer.cycled(snapshot)
        }
    }

    /// Swaps a freshly loaded state in; returns the number of loads so far.
    func swapIn(_ state: ReplicaState) -> Int {
        shared.withLockedValue { shared in
            shared.state = state
            shared.loaded = true
            shared.resyncs += 1
            return shared.resyncs
        }
    }

    /// One XREAD round trip, then the feed's state: applies what it read and returns the new cursor.
    /// - Parameter loadedAt: the feed's last id when the last load began: the load covers entries up to it.
    private func follow(from cursor: FeedID, loadedAt: FeedID, masters: [String]) async throws -> FeedID {
        // A failover (Sentinel names another master) or a cluster that changed its masters: what the
        // load saw may not be what the new masters hold.
        let current = try await self.masters()
        if current != masters {
            throw ReplicaResync(.topology, "the masters changed from \(masters) to \(current)")
        }
        let sent = NIODeadline.now().uptimeNanoseconds
        let reply = try await follower.send(blocklist.readFeedCommand(after: cursor, count: Self.readCount, block: block), on: loop).get()
        let entries = try FeedEntry.entries(ofXREAD: reply)
        let info = try await feedInfo()
        // What this replica has: the load covers the feed up to `loadedAt`, the reads up to `reached`.
        let covered = max(cursor, loadedAt)
        let reached = max(entries.last?.id ?? cursor, loadedAt)
        // Trimming (XTRIM, XADD MAXLEN) removes the oldest entries and, on Redis 7.0, does not move
        // max-deleted-entry-id (only XDEL does): the first entry left tells. If it is past what this
        // replica reached, or the feed is empty but went on past it, entries may have gone unread.
        if let deleted = info.maxDeleted, deleted > covered {
            throw ReplicaResync(.trimmed, "feed entries after \(covered) were deleted (up to \(deleted))")
        }
        if let first = info.firstEntry, first > reached {
            throw ReplicaResync(.trimmed, "the feed was trimmed past \(reached) (its first entry is \(first))")
        }
        if info.firstEntry == nil, info.lastGenerated > reached {
            throw ReplicaResync(.trimmed, "the feed was emptied after \(reached) (last id \(info.lastGenerated))")
        }
        if info.lastGenerated < cursor {
            throw ReplicaResync(.regressed, "the feed's last id \(info.lastGenerated) is before the cursor \(cursor)")
        }
        // An entry Veto cannot read changed something unknown: harmless if the last load already saw
        // its effect on the keys, otherwise only a new load can tell.
        if let unreadable = entries.first(where: { $0.isUnreadable && $0.id > loadedAt }) {
            throw ReplicaResync(.unreadable, "feed entry \(unreadable.id) is not one Veto writes")
        }
        let kept = try await deletionsNotDone(in: entries)
        let now = WallClock.now()
        shared.withLockedValue { shared in
            for entry in entries where !(entry.isDeletion && kept.contains(entry.key)) {
                shared.state.apply(key: entry.key, entry.operation, now: now)
            }
            // Fewer than asked: nothing was left after them when the XREAD ran.
            if entries.count < Self.readCount { shared.lastProof = sent }
            shared.state.sweep(now: now, budget: 20_000)
        }
        for entry in entries { observer.applied(max(0, now - entry.id.time)) }
        return entries.last?.id ?? cursor
    }

    /// The keys of `entries`' deletions that still exist in Redis. A deletion un-revokes, so the replica
    /// believes it only once Redis confirms the key is gone: a feed entry written by someone who cannot
    /// delete the key itself must not un-revoke on replicas what Redis still revokes. (A key deleted and
    /// written again since is there too, and its later set follows in the feed.)
    private func deletionsNotDone(in entries: [FeedEntry]) async throws -> Set<[UInt8]> {
        let keys = entries.filter(\.isDeletion).map(\.key)
        guard !keys.isEmpty else { return [] }
        let replies = follower.send(keys.map { RedisCommand("EXISTS", [$0], routingKey: $0) }, on: loop)
        var kept: Set<[UInt8]> = []
        for (key, reply) in zip(keys, replies) where try await reply.get().integer != 0 {
            kept.insert(key)
        }
        return kept
    }

    /// `XINFO STREAM <feed>`: the last id given, the largest one deleted by XDEL (Redis 7), and the
    /// first entry left (nil when the feed is empty).
    func feedInfo() async throws -> (lastGenerated: FeedID, maxDeleted: FeedID?, firstEntry: FeedID?) {
        let reply: RedisValue
        do {
            reply = try await follower.send(RedisCommand("XINFO", [Array("STREAM".utf8), blocklist.feedKey], routingKey: blocklist.feedKey), on: loop)
                .get()
        } catch let error as RedisError where error.serverErrorPrefix == "ERR" && "\(error)".contains("no such key") {
            return (.zero, nil, nil)
        }
        guard let fields = reply.array, fields.count % 2 == 0 else { throw ReplicaResync(.regressed, "XINFO STREAM gave no field list") }
        var lastGenerated = FeedID.zero
        var maxDeleted: FeedID?
        var firstEntry: FeedID?
        for index in stride(from: 0, to: fields.count, by: 2) {
            switch fields[index].string {
            case "last-generated-id": lastGenerated = fields[index + 1].string.flatMap(FeedID.init) ?? .zero
            case "max-deleted-entry-id": maxDeleted = fields[index + 1].string.flatMap(FeedID.init)
            case "first-entry": firstEntry = fields[index + 1].array?.first?.string.flatMap(FeedID.init)
            default: break
            }
        }
        return (lastGenerated, maxDeleted, firstEntry)
    }
}
