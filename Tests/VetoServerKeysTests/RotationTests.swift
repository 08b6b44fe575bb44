import NIOCore
import NIOPosix
import Testing
import VetoCore
import VetoServer

/// An unknown kid triggers one shared, rate-limited refetch.
@Suite struct RotationTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func firstTokenWithRotatedKeyIDPasses() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(fixture.configuration())
            try await keys.refresh()
            let rotated = TestKey.two(kid: "k2")
            let token = try rotated.token()
            #expect(try keys.current.check(token) == .unknownKeyID)

            fixture.serveJWKS([.one(kid: "k1"), rotated])
            let eventLoop = group.next()
            let future = keys.keysAfterUnknownKeyID(on: eventLoop)
            #expect(future.eventLoop === eventLoop)
            let refreshed = try await future.get()

            #expect(try refreshed.check(token) == nil)
            #expect(try keys.current.check(token) == nil)
            #expect(fixture.jwksRequests == 2)
        }
    }

    @Test func floodOfUnknownKeyIDsFetchesOncePerWindow() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(fixture.configuration(refetchWindow: .seconds(60)))
            try await keys.refresh()
            // Slow enough that all 200 lookups arrive while the one fetch runs.
            fixture.serveJWKS([.one(kid: "k1"), .two(kid: "k2")])
            fixture.server.update(KeysFixture.jwksPath) { $0.delay = .seconds(1) }

            let flood = (0..<200).map { _ in keys.keysAfterUnknownKeyID(on: group.next()) }
            for future in flood {
                #expect(try await future.get().keyIDs == ["k1", "k2"])
            }
            #expect(fixture.jwksRequests == 2)

            // Within the window, later lookups are answered from the cache without a request.
            fixture.serveJWKS([.one(kid: "k1"), .two(kid: "k2"), .three(kid: "k3")])
            let second = (0..<200).map { _ in keys.keysAfterUnknownKeyID(on: group.next()) }
            for future in second {
                #expect(try await future.get().keyIDs == ["k1", "k2"])
            }
            #expect(fixture.jwksRequests == 2)
            #expect(fixture.limitedRefetches == 200)
        }
    }

    @Test func refetchWindowReopens() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(fixture.configuration(refetchWindow: .milliseconds(200)))
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await keys.keysAfterUnknownKeyID(on: group.next()).get()
            #expect(fixture.jwksRequests == 1)

            fixture.serveJWKS([.one(kid: "k1"), .two(kid: "k2")])
            let pickedUp = try await eventually {
                try await keys.keysAfterUnknownKeyID(on: group.next()).get().keyIDs.contains("k2")
            }
            #expect(pickedUp)
            #expect(clock.now - start >= .milliseconds(200))
            #expect(fixture.jwksRequests == 2)
        }
    }

    @Test func refreshAndUnknownKeyIDShareOneFetch() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            // Long enough to join the fetch after seeing it start, even on a loaded machine.
            fixture.server.update(KeysFixture.jwksPath) { $0.delay = .milliseconds(500) }
            let keys = fixture.issuerKeys(fixture.configuration(timeout: .seconds(3)))
            let refresh = Task { try await keys.refresh() }
            #expect(await eventually { fixture.jwksRequests == 1 })

            let joined = try await keys.keysAfterUnknownKeyID(on: group.next()).get()
            try await refresh.value
            #expect(joined.keyIDs == ["k1"])
            #expect(fixture.jwksRequests == 1)
            #expect(fixture.fetches("ok") == 1)
        }
    }

    @Test func withoutRemoteKeysUnknownKeyIDAnswersAtOnce() async throws {
        try await withKeysFixture { fixture in
            let staticKey = try TestKey.one(kid: "static").verificationKey()
            let keys = fixture.issuerKeys(nil, staticKeys: [staticKey])
            let answer = try await keys.keysAfterUnknownKeyID(on: group.next()).get()
            #expect(answer.keyIDs == ["static"])
            try await keys.refresh()
            #expect(keys.isReady)
            #expect(fixture.jwksRequests == 0)
        }
    }
}
