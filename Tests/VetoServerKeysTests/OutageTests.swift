import InMemoryLogging
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import VetoCore
import VetoServer

/// Every kind of failed fetch keeps the last good keys, is counted, and is logged without secrets.
@Suite struct OutageTests {
    /// Fetches k1 once, breaks the provider with `breakIt`, and checks that the next refresh fails
    /// with `code` while the cached key keeps verifying.
    private func expectCacheSurvives(
        _ codes: JWKSFetchError.Code...,
        timeout: Duration = .seconds(3),
        maxDocumentSize: Int = 1 << 20,
        _ breakIt: (KeysFixture) async -> Void
    ) async throws {
        try await withKeysFixture { fixture in
            let key = TestKey.one(kid: "k1")
            fixture.serveJWKS([key])
            let keys = fixture.issuerKeys(fixture.configuration(timeout: timeout, maxDocumentSize: maxDocumentSize))
            try await keys.refresh()
            await breakIt(fixture)

            let error = await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(error.map { codes.contains($0.code) } == true, "\(String(describing: error))")
            #expect(try keys.current.check(key.token()) == nil)
            #expect(keys.current.keyIDs == ["k1"])
            #expect(keys.isReady)
            #expect(fixture.fetches("ok") == 1)
            #expect(fixture.fetches("error") == 1)
            #expect(fixture.logs.entries.contains { $0.level == .warning && "\($0.message)".contains("JWKS fetch failed") })
        }
    }

    @Test func providerStopped() async throws {
        // async-http-client retries a refused connection until the deadline, so a stopped provider
        // shows up as a refused connection or, when the retries run out the clock, as a timeout.
        try await expectCacheSurvives(.transport, .timeout) { await $0.server.stop() }
    }

    @Test func serverError() async throws {
        try await expectCacheSurvives(.httpStatus) { fixture in
            fixture.server.update(KeysFixture.jwksPath) { $0.status = .internalServerError }
        }
    }

    @Test func garbageBody() async throws {
        try await expectCacheSurvives(.malformedDocument) { fixture in
            fixture.server.set(KeysFixture.jwksPath, .json("<html>maintenance</html>"))
        }
    }

    /// A PEM body must not be taken for a key, though a key file may be PEM.
    @Test func pemBody() async throws {
        try await expectCacheSurvives(.malformedDocument) { fixture in
            fixture.server.set(
                KeysFixture.jwksPath,
                .json("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n"))
        }
    }

    @Test func jsonWithoutKeys() async throws {
        try await expectCacheSurvives(.malformedDocument) { fixture in
            fixture.server.set(KeysFixture.jwksPath, .json(#"{"error":"unavailable"}"#))
        }
    }

    @Test func oversizedBody() async throws {
        try await expectCacheSurvives(.documentTooLarge, maxDocumentSize: 4096) { fixture in
            fixture.serveJWKS((0..<40).map { .two(kid: "k\($0)") })
        }
    }

    @Test func oversizedChunkedBody() async throws {
        try await expectCacheSurvives(.documentTooLarge, maxDocumentSize: 4096) { fixture in
            fixture.serveJWKS((0..<40).map { .two(kid: "k\($0)") })
            fixture.server.update(KeysFixture.jwksPath) { $0.chunked = true }
        }
    }

    @Test func slowResponseHead() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        // A 1 s timeout against a 20 s delay: ending well before the delay shows the timeout fired,
        // with room for a loaded machine (the suites run in parallel on two cores).
        try await expectCacheSurvives(.timeout, timeout: .seconds(1)) { fixture in
            fixture.server.update(KeysFixture.jwksPath) { $0.delay = .seconds(20) }
        }
        #expect(clock.now - start < .seconds(10))
    }

    /// The client's own deadline ends with the response head; the fetch timeout must cover the body too.
    @Test func slowResponseBody() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await expectCacheSurvives(.timeout, timeout: .seconds(1)) { fixture in
            fixture.server.update(KeysFixture.jwksPath) { $0.bodyDelay = .seconds(20) }
        }
        #expect(clock.now - start < .seconds(10))
    }

    @Test func publishedSecretKeys() async throws {
        try await expectCacheSurvives(.unsafeKeySet) { fixture in
            fixture.server.set(
                KeysFixture.jwksPath,
                .json(#"{"keys":[{"kty":"oct","kid":"s1","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}"#))
        }
    }

    @Test func unknownKeyIDDuringOutageAnswersWithCachedKeys() async throws {
        try await withKeysFixture { fixture in
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(fixture.configuration())
            try await keys.refresh()
            await fixture.server.stop()

            let answer = try await keys.keysAfterUnknownKeyID(on: MultiThreadedEventLoopGroup.singleton.next()).get()
            #expect(answer.keyIDs == ["k1"])
            #expect(fixture.fetches("error") == 1)
        }
    }

    @Test func firstFetchFailingLeavesIssuerNotReadyAndBacksOff() async throws {
        try await withKeysFixture { fixture in
            fixture.server.set(KeysFixture.jwksPath, .init(status: .serviceUnavailable))
            let keys = fixture.issuerKeys(fixture.configuration())
            #expect(keys.nextRefreshDelay == nil)
            await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(!keys.isReady)
            #expect(keys.current.isEmpty)
            #expect(keys.nextRefreshDelay == .seconds(30))
            await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(keys.nextRefreshDelay == .seconds(60))

            fixture.serveJWKS([.one(kid: "k1")])
            try await keys.refresh()
            #expect(keys.isReady)
            #expect(keys.nextRefreshDelay == .seconds(600))
        }
    }

    @Test func logsNameTheFailureButNotTheQuery() async throws {
        try await withKeysFixture { fixture in
            fixture.server.set(KeysFixture.jwksPath, .init(status: .internalServerError))
            let url = "http://user:hunter2@127.0.0.1:\(fixture.server.port)\(KeysFixture.jwksPath)?access_token=s3cr3t"
            let keys = fixture.issuerKeys(fixture.configuration(jwksURL: url))
            await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(fixture.jwksRequests == 1)

            let warning = try #require(fixture.logs.entries.first { $0.level == .warning })
            let text = "\(warning.message) \(warning.metadata)"
            #expect(text.contains("http_status"))
            #expect(text.contains("500"))
            #expect(text.contains(fixture.server.baseURL.dropFirst(7) + KeysFixture.jwksPath))
            #expect(!text.contains("s3cr3t"))
            #expect(!text.contains("hunter2"))
        }
    }
}
