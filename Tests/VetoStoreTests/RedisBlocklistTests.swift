import Foundation
import NIOCore
import NIOPosix
import Testing
import VetoRedis
import VetoStore
import VetoTestSupport

/// What only the Redis store has: round trips, foreign keys, outages, SCAN batches.
@Suite(.requiresRedisServer) struct RedisBlocklistTests {
    @Test func statusReadsJtiAndCutoffsInOneRoundTrip() async throws {
        try await RedisServer.with { server async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let client = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"), eventLoopGroup: group)
            let store = RedisBlocklist(client: client)
            _ = try await store.revokeSubject(SubjectRevocationRequest(issuer: issuer, subject: "u", cutoff: now() - 60))
            let before = try await client.statistics()
            let loop = group.next()
            let status = try await store.status(issuer: issuer, jti: "j", subject: "u", issuedAt: now(), on: loop).get()
            let after = try await client.statistics()
            #expect(status == .notRevoked)
            #expect(after.commandsSent - before.commandsSent == 3)  // GET jti entry, GET subject cut-off, GET issuer cut-off
            #expect(after.writeBatches - before.writeBatches == 1)  // … sent in one write

            // 200 checks arriving in one loop tick, as a burst of requests read together does: their
            // 600 GETs leave in one write and every check waits for that one round trip. The replies
            // arrive in a handful of socket reads (Redis answers per 16 KiB it reads; NIO's read
            // buffer starts small), not one per command.
            let statuses = try await loop.flatSubmit {
                let checks = (0..<200).map { store.status(issuer: issuer, jti: "j\($0)", subject: "u", issuedAt: now(), on: loop) }
                return EventLoopFuture.whenAllSucceed(checks, on: loop)
            }.get()
            let burst = try await client.statistics()
            #expect(statuses.allSatisfy { $0 == .notRevoked })
            #expect(burst.commandsSent - after.commandsSent == 600)
            #expect(burst.writeBatches - after.writeBatches == 1)
            #expect(burst.readEvents - after.readEvents <= 20)
            print("200 concurrent checks: \(burst.writeBatches - after.writeBatches) write(s), \(burst.readEvents - after.readEvents) read(s)")
            await client.close()
            try await group.shutdownGracefully()
        }
    }

    @Test func keyOfAnotherTypeIsWrongTypeNotNotRevoked() async throws {
        try await withStore(.redis) { fixture in
            let key = StoreFixture.tokenKey(issuer: issuer, jti: "hand-made")
            #expect(fixture.redis?.cli("SADD", key, "x") == "1")
            let error = try await #require(throws: StoreError.self) {
                try await fixture.store.status(issuer: issuer, jti: "hand-made", subject: nil, issuedAt: nil)
            }
            #expect(error.code == .wrongType)
            #expect(error.message.hasPrefix("WRONGTYPE at key \(key)"))
            let revoke = try await #require(throws: StoreError.self) {
                try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "hand-made"))
            }
            #expect(revoke.code == .wrongType)
        }
    }

    @Test func unreadableValueStillRevokes() async throws {
        try await withStore(.redis) { fixture in
            _ = fixture.redis?.cli("SET", StoreFixture.tokenKey(issuer: issuer, jti: "garbled"), "not json", "EX", "60")
            #expect(try await fixture.store.status(issuer: issuer, jti: "garbled", subject: nil, issuedAt: nil) == .tokenRevoked(nil))
            _ = fixture.redis?.cli("SET", StoreFixture.subjectKey(issuer: issuer, subject: "s"), "{", "EX", "60")
            let error = try await #require(throws: StoreError.self) {
                try await fixture.store.status(issuer: issuer, jti: nil, subject: "s", issuedAt: now())
            }
            #expect(error.code == .corruptEntry)
        }
    }

    @Test func keyPrefixIsConfigurable() async throws {
        try await withStore(.redis, configuration: BlocklistConfiguration(keyPrefix: "tenant-7/")) { fixture in
            _ = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "p", tokenExpiresAt: now() + 60))
            // The entry alone: no replica made the feed.
            #expect(fixture.redis?.cli("--scan") == StoreFixture.tokenKey(issuer: issuer, jti: "p", prefix: "tenant-7/"))
            _ = fixture.redis?.cli("SET", "unrelated", "1")
            #expect(try await fixture.store.count() == BlocklistCount(tokens: 1, subjects: 0))
        }
    }

    @Test func listingSpansManyScanBatches() async throws {
        try await withStore(.redis) { fixture in
            let total = 700
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<total {
                    group.addTask {
                        _ = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "bulk-\(index)", tokenExpiresAt: now() + 600))
                    }
                }
                try await group.waitForAll()
            }
            var seen = Set<String>()
            var query = BlocklistQuery(limit: 90)
            var pages = 0
            repeat {
                let page = try await fixture.store.list(query)
                #expect(page.entries.count <= 90)
                seen.formUnion(page.entries.map(\.jti))
                query.cursor = page.nextCursor
                pages += 1
            } while query.cursor != nil && pages < 100
            #expect(seen.count == total)
            #expect(try await fixture.store.count().tokens == total)
        }
    }

    @Test func outageFailsEveryCheckClosedAndRecovers() async throws {
        try await withStore(.redis) { fixture in
            let server = try #require(fixture.redis)
            _ = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "revoked", tokenExpiresAt: now() + 600))
            let check: @Sendable (String) async throws -> RevocationStatus = { jti in
                try await fixture.store.status(issuer: issuer, jti: jti, subject: "u", issuedAt: now())
            }
            #expect(try await check("revoked") != .notRevoked)
            #expect(try await check("live") == .notRevoked)

            // Checks racing the kill may still reach Redis, or fail; the revoked token is never let through.
            async let racing = (0..<200).asyncMap { index -> (String, Result<RevocationStatus, any Error>) in
                let jti = index % 2 == 0 ? "revoked" : "live"
                do {
                    return (jti, .success(try await check(jti)))
                } catch {
                    return (jti, .failure(error))
                }
            }
            try await server.killHard()
            for (jti, result) in await racing {
                switch result {
                case .success(let status):
                    if jti == "revoked" { #expect(status != .notRevoked) }
                case .failure(let error):
                    #expect((error as? StoreError)?.code == .storeUnavailable, "\(error)")
                }
            }

            // During the outage every check fails with store_unavailable, revoked or not.
            for index in 0..<100 {
                let error = try await #require(throws: StoreError.self) { try await check(index % 2 == 0 ? "revoked" : "live") }
                #expect(error.code == .storeUnavailable, "\(error)")
                #expect(error.message.contains("127.0.0.1:\(server.port)"))
            }
            let ping = try await #require(throws: StoreError.self) { try await fixture.store.ping() }
            #expect(ping.code == .storeUnavailable)

            try await server.restart()
            try await poll("the store to answer again", timeout: 2) {
                for _ in 0..<8 where (try? await check("live")) != .notRevoked { return false }
                return true
            }
        }
    }
}

extension Sequence where Element: Sendable {
    /// Runs `transform` for every element concurrently; results keep the sequence's order.
    func asyncMap<T: Sendable>(_ transform: @escaping @Sendable (Element) async -> T) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            for (index, element) in enumerated() {
                group.addTask { (index, await transform(element)) }
            }
            var results = [(Int, T)]()
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
