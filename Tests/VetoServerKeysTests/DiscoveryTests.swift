import NIOHTTP1
import Testing
import VetoCore
import VetoServer

/// Without `--jwks-url`, `{issuer}/.well-known/openid-configuration` names the JWKS.
@Suite struct DiscoveryTests {
    static let discoveryPath = "/tenant/.well-known/openid-configuration"

    private func serveDiscovery(_ fixture: KeysFixture, issuer: String, jwksURI: String) {
        fixture.server.set(
            Self.discoveryPath, .json(#"{"issuer":"\#(issuer)","jwks_uri":"\#(jwksURI)","id_token_signing_alg_values_supported":["EdDSA"]}"#))
    }

    private func discoveryConfiguration(_ fixture: KeysFixture) -> RemoteKeyConfiguration {
        var configuration = fixture.configuration()
        configuration.jwksURL = nil
        configuration.discovery = true
        return configuration
    }

    @Test func jwksURIIsFollowedAndReused() async throws {
        try await withKeysFixture { fixture in
            let issuer = fixture.server.baseURL + "/tenant"
            // A trailing slash on the issuer must not double the slash in the discovery URL.
            serveDiscovery(fixture, issuer: issuer + "/", jwksURI: fixture.jwksURL)
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(discoveryConfiguration(fixture), issuer: issuer + "/")

            try await keys.refresh()
            #expect(keys.current.keyIDs == ["k1"])
            #expect(fixture.server.requestCount(Self.discoveryPath) == 1)
            #expect(fixture.jwksRequests == 1)

            try await keys.refresh()
            #expect(fixture.server.requestCount(Self.discoveryPath) == 1)
            #expect(fixture.jwksRequests == 2)
        }
    }

    @Test func failedJWKSFetchDiscoversAgain() async throws {
        try await withKeysFixture { fixture in
            let issuer = fixture.server.baseURL + "/tenant"
            serveDiscovery(fixture, issuer: issuer, jwksURI: fixture.jwksURL)
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(discoveryConfiguration(fixture), issuer: issuer)
            try await keys.refresh()

            fixture.server.update(KeysFixture.jwksPath) { $0.status = .notFound }
            await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            // The provider moved its JWKS; discovery finds the new place.
            serveDiscovery(fixture, issuer: issuer, jwksURI: fixture.server.baseURL + "/v2/keys")
            fixture.server.set("/v2/keys", .json(JWKS.document([.two(kid: "k2")])))
            try await keys.refresh()

            #expect(keys.current.keyIDs == ["k2"])
            #expect(fixture.server.requestCount(Self.discoveryPath) == 2)
        }
    }

    @Test func documentForAnotherIssuerIsRefused() async throws {
        try await withKeysFixture { fixture in
            let issuer = fixture.server.baseURL + "/tenant"
            serveDiscovery(fixture, issuer: "https://attacker.test", jwksURI: fixture.jwksURL)
            fixture.serveJWKS([.one(kid: "k1")])
            let keys = fixture.issuerKeys(discoveryConfiguration(fixture), issuer: issuer)

            let error = await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(error?.code == .issuerMismatch)
            #expect(fixture.jwksRequests == 0)
            #expect(!keys.isReady)
        }
    }

    @Test func documentWithoutJWKSURIIsRefused() async throws {
        try await withKeysFixture { fixture in
            let issuer = fixture.server.baseURL + "/tenant"
            fixture.server.set(Self.discoveryPath, .json(#"{"issuer":"\#(issuer)"}"#))
            let keys = fixture.issuerKeys(discoveryConfiguration(fixture), issuer: issuer)
            let error = await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(error?.code == .malformedDocument)
        }
    }

    @Test func issuerThatIsNoURLCannotBeDiscovered() async throws {
        try await withKeysFixture { fixture in
            let configuration = discoveryConfiguration(fixture)
            #expect(throws: JWKSFetchError.self) { try configuration.validate(issuer: "my-issuer") }
            let keys = fixture.issuerKeys(configuration, issuer: "my-issuer")
            let error = await #expect(throws: JWKSFetchError.self) { try await keys.refresh() }
            #expect(error?.code == .invalidConfiguration)
        }
    }
}
