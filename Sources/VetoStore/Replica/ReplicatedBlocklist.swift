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
        issuer: String, jti: String?, subject: String?, issuedAt: Double?, on eventLoop: any EventLoop,
        then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void
    ) {
        guard let answer = replica.answer(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt, now: WallClock.now()) else {
            replica.observer.answered(false)
            askRedis(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt, on: eventLoop, then: then)
            return
        }
        replica.observer.answered(true)
        switch answer {
        case .success(.notRevoked):
            then(.success(.notRevoked))
        case .success(.subjectRevoked(let cutoff)):
            then(.success(.subjectRevoked(cutoff)))
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
        issuer: String, jti: String?, subject: String?, issuedAt: Double?, on eventLoop: any EventLoop,
        then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void
    ) {
        let answered = NIOLoopBoundBox(false, eventLoop: eventLoop)
        // Redis cannot say: a revocation the stale replica knows of still refuses the token (a 401, not
        // a 503, and never a degraded 200 under fail-open).
        let fail = { @Sendable (error: any Error) in
            if let known = self.replica.knownRevocation(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt, now: WallClock.now()) {
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
        redis.status(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt, on: eventLoop) { result in
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

    package func revokeSubject(_ request: SubjectRevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<SubjectCutoff> {
        redis.revokeSubject(request, on: eventLoop).map { cutoff in
            let ttl = RevocationRules.timeToLive(until: cutoff.entryExpiresAt, now: WallClock.now())
            self.replica.applyOwnWrite(
                key: self.redis.keys.subject(issuer: cutoff.issuer, subject: cutoff.subject),
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

    package func removeSubjectCutoff(issuer: String, subject: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        redis.removeSubjectCutoff(issuer: issuer, subject: subject, on: eventLoop).map { removed in
            self.replica.applyOwnWrite(key: self.redis.keys.subject(issuer: issuer, subject: subject), .delete)
            return removed
        }
    }

    package func entry(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry?> {
        redis.entry(issuer: issuer, jti: jti, on: eventLoop)
    }

    package func subjectCutoff(issuer: String, subject: String, on eventLoop: any EventLoop) -> EventLoopFuture<SubjectCutoff?> {
        redis.subjectCutoff(issuer: issuer, subject: subject, on: eventLoop)
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
