import InMemoryLogging
import Logging
import Testing
import VetoCore
import VetoServer

/// A good fetch replaces the remote keys; the loop refreshes on schedule.
@Suite struct RefreshTests {
    @Test func removedKeyStopsVerifyingAfterRefresh() async throws {
        try await withKeysFixture { fixture in
            let compromised = TestKey.one(kid: "k1")
            let kept = TestKey.two(kid: "k2")
            fixture.serveJWKS([compromised, kept])
            let keys = fixture.issuerKeys(fixture.configuration())
            try await keys.refresh()
            #expect(try keys.current.check(compromised.token()) == nil)

            fixture.serveJWKS([kept])
            try await keys.refresh()
            #expect(try keys.current.check(compromised.token()) == .unknownKeyID)
            #expect(try keys.current.check(kept.token()) == nil)
            #expect(fixture.logs.entries.contains { "\($0.message)" == "JWKS keys changed" && "\($0.metadata["veto.removed"] ?? "")".contains("k1") })
        }
    }

    /// An emptied JWKS is the issuer revoking every key, not an outage: remote keys go, configured keys stay.
    @Test func emptiedJWKSDropsRemoteKeysButKeepsConfiguredOnes() async throws {
        try await withKeysFixture { fixture in
            let configured = try TestKey.three(kid: "configured").verificationKey()
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(fixture.configuration(), staticKeys: [configured])
            try await keys.refresh()
            #expect(keys.current.keyIDs == ["configured", "k1"])

            fixture.server.set(KeysFixture.jwksPath, .json(#"{"keys":[]}"#))
            try await keys.refresh()
            #expect(keys.current.keyIDs == ["configured"])
            #expect(fixture.logs.entries.contains { $0.level == .error })
        }
    }

    @Test(arguments: [
        ("max-age=120", Duration.seconds(120)),
        ("public, max-age=\"300\", must-revalidate", .seconds(300)),
        ("max-age=5", .seconds(60)),  // raised to minimumRefreshInterval
        ("no-cache", .seconds(60)),
        ("max-age=86400", .seconds(600)),  // capped at refreshInterval
        ("max-age=banana", .seconds(600)),
        ("", .seconds(600))
    ])
    func cacheControlSetsNextRefresh(header: String, expected: Duration) async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")], headers: header.isEmpty ? [] : [("Cache-Control", header)])
            let keys = fixture.issuerKeys(fixture.configuration())
            try await keys.refresh()
            #expect(keys.nextRefreshDelay == expected)
        }
    }

    @Test func runRefreshesInTheBackgroundUntilCancelled() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            var configuration = fixture.configuration()
            configuration.refreshInterval = .milliseconds(50)
            let keys = fixture.issuerKeys(configuration)
            let loop = Task { await keys.run() }

            #expect(await eventually { keys.isReady })
            fixture.serveJWKS([.two(kid: "k2")])
            #expect(await eventually { keys.current.keyIDs == ["k2"] })
            #expect(fixture.jwksRequests >= 2)

            loop.cancel()
            await loop.value
            let requests = fixture.jwksRequests
            try await Task.sleep(for: .milliseconds(150))
            #expect(fixture.jwksRequests == requests)
        }
    }

    @Test func keysWithoutAlgorithmUseTheConfiguredDefault() async throws {
        try await withKeysFixture { fixture in
            fixture.server.set(KeysFixture.jwksPath, .json(JWKS.rsaWithoutAlgorithm))
            var configuration = fixture.configuration()
            configuration.defaultAlgorithm = .rs256
            let keys = fixture.issuerKeys(configuration)
            try await keys.refresh()
            #expect(keys.current.keys.map(\.algorithm) == [.rs256])
            #expect(keys.current.keyIDs == ["azure-1"])
        }
    }

    @Test func keysWithoutAlgorithmAndNoDefaultAreSkippedLoudly() async throws {
        try await withKeysFixture { fixture in
            fixture.server.set(KeysFixture.jwksPath, .json(JWKS.rsaWithoutAlgorithm))
            let keys = fixture.issuerKeys(fixture.configuration())
            try await keys.refresh()
            #expect(keys.current.isEmpty)
            let error = try #require(fixture.logs.entries.first { $0.level == .error })
            #expect("\(error.message)".contains("no usable key"))
            #expect(fixture.logs.entries.contains { $0.level == .warning && "\($0.metadata["veto.skipped"] ?? "")".contains("azure-1") })
        }
    }
}
