import NIOCore
import VetoCore

/// The Redis blocklist with a local replica in front (`--consistency bounded`): checks are answered from
/// memory while the replica is current, and by Redis otherwise; writes and operator reads go to Redis,
/// and this instance's own writes reach its replica as soon as Redis acknowledges them.
package final class ReplicatedBlocklist: Blocklist {
    package let redis: RedisBlocklist
    package let replica: BlocklistReplica

    package var configuration: BlocklistConfiguration { redis.configuration }
    package var eventLoopGroup: any EventLoopGroup { redis.eventLoopGroup }

    package init(redis: RedisBlocklist, replica: BlocklistReplica) {
        self.redis = redis
        self.replica = replica
    }

    package func status(
        _ query: RevocationQuery, on eventLoop: any EventLoop, then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void
    ) {
        guard let answer = replica.answer(query, now: WallClock.now()) else {
            replica.observer.answered(false)
            askRedis(query, on: eventLoop, then: then)
            return
        }
        replica.observer.answered(true)
        switch answer {
        case .success(.notRevoked):
            then(.success(.notRevoked))
        case .success(.cutOff(let cutoff)):
            then(.success(.cutOff(cutoff)))
        case .success(.tokenRevoked):
            // The entry's details (when, why) live only in Redis: asking for them would cost every
            // refusal a round trip, and a replayed revoked token could then load Redis as in strict
            // mode. The refusal names the token without them.
            then(.success(.tokenRevoked(nil)))
        case .failure(let error):
            then(.failure(error))
        }
    }

    /// How long a check waits for Redis when the replica is stale before failing (closed, or degraded
    /// under fail-open): a stale replica means Redis is already in trouble, and the bound is
    /// `max_staleness` plus this (README, "Consistency").
    static let fallbackTimeout = TimeAmount.milliseconds(250)

    /// The strict lookup, failed after ``fallbackTimeout``. Both callbacks run on `eventLoop`, so the
    /// first one to run answers and the other does nothing.
    private func askRedis(
        _ query: RevocationQuery, on eventLoop: any EventLoop, then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void
    ) {
        let answered = NIOLoopBoundBox(false, eventLoop: eventLoop)
        // Redis cannot say: a revocation the stale replica knows of still refuses the token (a 401, not
        // a 503, and never a degraded 200 under fail-open).
        let fail = { @Sendable (error: any Error) in
            if let known = self.replica.knownRevocation(query, now: WallClock.now()) {
                then(.success(known))
            } else {
                then(.failure(error))
            }
        }
        let timer = eventLoop.scheduleTask(in: Self.fallbackTimeout) {
            guard !answered.value else { return }
            answered.value = true
            fail(StoreError(.timeout, "the replica is stale and Redis did not answer within \(Self.fallbackTimeout.nanoseconds / 1_000_000) ms"))
        }
        redis.status(query, on: eventLoop) { result in
            guard !answered.value else { return }
            answered.value = true
            timer.cancel()
            switch result {
            case .success: then(result)
            case .failure(let error): fail(error)
            }
        }
    }

    package func revoke(_ request: RevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry> {
        redis.revoke(request, on: eventLoop).map { entry in
            let ttl = RevocationRules.timeToLive(until: entry.entryExpiresAt, now: WallClock.now())
            self.replica.applyOwnWrite(key: self.redis.keys.token(issuer: entry.issuer, jti: entry.jti), .set(value: [], ttlMilliseconds: ttl))
            return entry
        }
    }

    package func cutoff(_ request: CutoffRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff> {
        redis.cutoff(request, on: eventLoop).map { cutoff in
            let ttl = RevocationRules.timeToLive(until: cutoff.entryExpiresAt, now: WallClock.now())
            self.replica.applyOwnWrite(
                key: self.redis.keys.cutoff(issuer: request.issuer, kind: request.kind, value: request.value),
                .set(value: EntryJSON.encode(cutoff), ttlMilliseconds: ttl))
            return cutoff
        }
    }

    package func remove(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        redis.remove(issuer: issuer, jti: jti, on: eventLoop).map { removed in
            self.replica.applyOwnWrite(key: self.redis.keys.token(issuer: issuer, jti: jti), .delete)
            return removed
        }
    }

    package func removeCutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        redis.removeCutoff(issuer: issuer, kind: kind, value: value, on: eventLoop).map { removed in
            self.replica.applyOwnWrite(key: self.redis.keys.cutoff(issuer: issuer, kind: kind, value: value), .delete)
            return removed
        }
    }

    package func entry(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry?> {
        redis.entry(issuer: issuer, jti: jti, on: eventLoop)
    }

    package func cutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff?> {
        redis.cutoff(issuer: issuer, kind: kind, value: value, on: eventLoop)
    }

    package func cutoffs(issuer: String?, kind: CutoffKind?, on eventLoop: any EventLoop) -> EventLoopFuture<[Cutoff]> {
        redis.cutoffs(issuer: issuer, kind: kind, on: eventLoop)
    }

    package func list(_ query: BlocklistQuery, on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistPage> {
        redis.list(query, on: eventLoop)
    }

    package func count(on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistCount> {
        redis.count(on: eventLoop)
    }

    package func ping(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        redis.ping(on: eventLoop)
    }

    package func close() async {
        await replica.stop()
        await redis.close()
    }
}
