import NIOCore
import NIOPosix
import Testing
import VetoCore

@testable import VetoServer

/// The verification cache's rules: bounded, never past exp + leeway, never across a key change,
/// and only ever used on its own event loop.
@Suite struct VerificationCacheTests {
    static let loop = MultiThreadedEventLoopGroup.singleton.next()

    static func key(_ number: UInt8) -> VerificationCache.Key {
        VerificationCache.Key(digest: [UInt8](repeating: number, count: 32))
    }

    /// A token of an issuer whose current keys are at `keyGeneration`.
    static func token(_ jti: String, keyGeneration: UInt64 = 0) throws -> VerifiedToken {
        let origin = try ConfiguredIssuer(
            configuration: IssuerConfiguration(issuer: "https://idp.example"),
            keys: StaticKeys(current: KeySet([], generation: keyGeneration)), maxTokenLifetime: 86_400,
            maxTokenBytes: Limits().maxTokenBytes)
        let object = try JSONReader().parseObject(Array(#"{"iss":"https://idp.example","sub":"alice","jti":"\#(jti)","exp":2000}"#.utf8))
        let claims = try #require(JWTClaims.parse(object: object).claims)
        let answer = AllowedAnswer(
            issuer: "https://idp.example", revocationID: jti, claims: claims, claimHeaders: [], budget: 4096,
            allocator: ByteBufferAllocator())
        return VerifiedToken(origin: origin, revocationID: jti, claims: claims, keyID: nil, answer: answer)
            .withoutClaims
    }

    /// Runs `body` on the cache's loop, as the data plane does.
    static func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await loop.submit(body).get()
    }

    @Test func aHitReturnsTheVerifiedTokenUntilExpPlusLeeway() async throws {
        let cache = VerificationCache(capacity: 8, eventLoop: Self.loop)
        let token = try Self.token("t1")
        try await Self.onLoop {
            cache.insert(Self.key(1), token: token, validUntil: 2060, keyGeneration: 0)
            #expect(cache.lookup(Self.key(1), now: 1000)?.revocationID == "t1")
            #expect(cache.lookup(Self.key(2), now: 1000) == nil)
            #expect(cache.lookup(Self.key(1), now: 2059.999) != nil)
            // At exp + leeway validation refuses the token, so the cache must not answer either.
            #expect(cache.lookup(Self.key(1), now: 2060) == nil)
            #expect(cache.count == 0)
            #expect(cache.lookup(Self.key(1), now: 1000) == nil)
        }
    }

    @Test func anEntryVerifiedWithOlderKeysIsDropped() async throws {
        let cache = VerificationCache(capacity: 8, eventLoop: Self.loop)
        // The first token's issuer rotated (generation 4); the second's did not.
        let first = try Self.token("t1", keyGeneration: 4)
        let second = try Self.token("t2", keyGeneration: 7)
        try await Self.onLoop {
            cache.insert(Self.key(1), token: first, validUntil: 2060, keyGeneration: 3)
            cache.insert(Self.key(2), token: second, validUntil: 2060, keyGeneration: 7)
            #expect(cache.lookup(Self.key(1), now: 1000) == nil)
            #expect(cache.lookup(Self.key(2), now: 1000)?.revocationID == "t2")
            #expect(cache.count == 1)
        }
    }

    @Test func theSizeIsBoundedAndRecentlyUsedEntriesSurvive() async throws {
        let cache = VerificationCache(capacity: 4, eventLoop: Self.loop)
        let tokens = try (0..<64).map { try Self.token("t\($0)") }
        try await Self.onLoop {
            for number in 0..<4 { cache.insert(Self.key(UInt8(number)), token: tokens[number], validUntil: 2060, keyGeneration: 0) }
            #expect(cache.lookup(Self.key(0), now: 1000) != nil)
            cache.insert(Self.key(4), token: tokens[4], validUntil: 2060, keyGeneration: 0)
            #expect(cache.count == 4)
            // Entry 0 was used since it was inserted: the clock passes over it and evicts entry 1.
            #expect(cache.lookup(Self.key(0), now: 1000) != nil)
            #expect(cache.lookup(Self.key(1), now: 1000) == nil)
            #expect(cache.lookup(Self.key(4), now: 1000) != nil)
            for number in 5..<64 {
                cache.insert(Self.key(UInt8(number)), token: tokens[number], validUntil: 2060, keyGeneration: 0)
                #expect(cache.count <= 4)
            }
            #expect(cache.lookup(Self.key(63), now: 1000)?.revocationID == "t63")
        }
    }

    @Test func reinsertingAKeyReplacesItsEntry() async throws {
        let cache = VerificationCache(capacity: 2, eventLoop: Self.loop)
        let old = try Self.token("old")
        let new = try Self.token("new", keyGeneration: 1)
        try await Self.onLoop {
            cache.insert(Self.key(9), token: old, validUntil: 1500, keyGeneration: 0)
            cache.insert(Self.key(9), token: new, validUntil: 2060, keyGeneration: 1)
            #expect(cache.count == 1)
            #expect(cache.lookup(Self.key(9), now: 1600)?.revocationID == "new")
        }
    }

    @Test func aCacheIsHandedOutOnlyOnItsOwnLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let caches = VerificationCaches(capacity: 5, eventLoopGroup: group)
        #expect(caches.capacityPerLoop == 5)
        let loops = Array(group.makeIterator())
        // Not on the loop's thread: no cache, so no unsynchronised access is possible.
        #expect(caches.cache(for: loops[0]) == nil)
        let own = try await loops[0].submit { caches.cache(for: loops[0]) != nil }.get()
        let other = try await loops[0].submit { caches.cache(for: loops[1]) != nil }.get()
        #expect(own)
        #expect(!other)
        // A loop outside the group (the control plane may use one) gets none.
        let stranger = MultiThreadedEventLoopGroup.singleton.next()
        #expect(try await stranger.submit { caches.cache(for: stranger) == nil }.get())
        let disabled = VerificationCaches(capacity: 0, eventLoopGroup: group)
        #expect(try await loops[0].submit { disabled.cache(for: loops[0]) == nil }.get())
        try await group.shutdownGracefully()
    }
}

/// At default settings on several loops, a working set of `verify_cache_size` tokens stays warm: each
/// loop's cache holds all of it, so whichever loop a connection lands on, every token hits there.
@Suite struct VerificationCachesCapacityTests {
    @Test func onTwoLoopsAWorkingSetOfTheCapacityAllHits() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let capacity = 512
        let caches = VerificationCaches(capacity: capacity, eventLoopGroup: group)
        let loops = Array(group.makeIterator())
        let token = try VerificationCacheTests.token("t")
        let keys = (0..<capacity).map { number in
            VerificationCache.Key(digest: (0..<32).map { UInt8(truncatingIfNeeded: number >> (8 * ($0 % 4))) &+ UInt8($0 / 4) })
        }
        #expect(Set(keys).count == capacity)
        for loop in loops {
            let hits = try await loop.submit {
                let cache = try #require(caches.cache(for: loop))
                for key in keys { cache.insert(key, token: token, validUntil: 2060, keyGeneration: 0) }
                return keys.count { cache.lookup($0, now: 1000) != nil }
            }.get()
            #expect(hits == capacity, "every key of the working set hits on the loop that inserted it")
        }
        // The first loop's entries survived the second loop's inserts: the caches do not share a bound.
        let first = loops[0]
        let stillWarm = try await first.submit { try #require(caches.cache(for: first)).count }.get()
        #expect(stillWarm == capacity)
        try await group.shutdownGracefully()
    }
}

/// What the cache relies on from `IssuerKeys`: the key set's generation moves exactly when the
/// fetched keys change, so cached verifications outlive a refresh but not a rotation.
@Suite struct KeyGenerationTests {
    @Test func theGenerationChangesWithTheDocumentOnly() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(fixture.configuration())
            let initial = keys.current.generation
            try await keys.refresh()
            let first = keys.current.generation
            #expect(first != initial)
            try await keys.refresh()
            #expect(keys.current.generation == first, "an identical document keeps the key set")
            fixture.serveJWKS([.two(kid: "k2")])
            try await keys.refresh()
            #expect(keys.current.generation != first)
            #expect(keys.current.keyIDs == ["k2"])
            #expect(fixture.jwksRequests == 3)
        }
    }
}
