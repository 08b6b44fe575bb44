import Testing
import VetoCore

@testable import VetoServer

/// The pure pieces: header parsing, schedule, URL handling.
@Suite struct UnitTests {
    @Test func cacheControl() {
        #expect(CacheControl.maxAge(["max-age=60"]) == .seconds(60))
        #expect(CacheControl.maxAge(["public", "max-age=60"]) == .seconds(60))
        #expect(CacheControl.maxAge(["Public, MAX-AGE = 7 "]) == .seconds(7))  // lenient: only a hint, and clamped
        #expect(CacheControl.maxAge(["public,MAX-AGE=7"]) == .seconds(7))
        #expect(CacheControl.maxAge(["max-age=\"42\""]) == .seconds(42))
        #expect(CacheControl.maxAge(["max-age=60, no-store"]) == .zero)
        #expect(CacheControl.maxAge(["max-age=-5"]) == nil)
        #expect(CacheControl.maxAge(["max-age="]) == nil)
        #expect(CacheControl.maxAge(["=,,=="]) == nil)
        #expect(CacheControl.maxAge(["max-age=99999999999999999999999"]) == .seconds(1 << 31))
        #expect(CacheControl.maxAge(["s-maxage=60"]) == nil)
        #expect(CacheControl.maxAge([]) == nil)
    }

    @Test func retryBacksOffUpToTheRefreshInterval() {
        let schedule = RefreshSchedule(RemoteKeyConfiguration())
        #expect((1...7).map { schedule.delay(afterFailures: $0) } == [30, 60, 120, 240, 480, 600, 600].map { .seconds($0) })
        #expect(schedule.delay(afterFailures: 10_000) == .seconds(600))
    }

    @Test func urlsAreRedactedForLogs() throws {
        let url = try #require(HTTPURL("HTTPS://user:pw@idp.example:8443/keys?sig=abc#frag"))
        #expect(url.isHTTPS)
        #expect(url.redacted == "https://idp.example:8443/keys")
        #expect(url.text == "HTTPS://user:pw@idp.example:8443/keys?sig=abc#frag")
        #expect(HTTPURL("http://idp.example?x=1")?.redacted == "http://idp.example")
        #expect(HTTPURL("ftp://idp.example/keys") == nil)
        #expect(HTTPURL("https:///keys") == nil)
        #expect(HTTPURL("https://idp.example/a b") == nil)
        #expect(HTTPURL("/keys") == nil)
    }

    @Test func discoveryOverTLSMustNotPointToPlainHTTP() throws {
        let discovery = try #require(HTTPURL("https://idp.example/.well-known/openid-configuration"))
        let body = Array(#"{"issuer":"https://idp.example","jwks_uri":"http://idp.example/keys"}"#.utf8)
        let error = #expect(throws: JWKSFetchError.self) {
            try DiscoveryDocument.jwksURL(from: body, issuer: "https://idp.example", discoveryURL: discovery)
        }
        #expect(error?.code == .malformedDocument)
        let good = Array(#"{"issuer":"https://idp.example","jwks_uri":"https://keys.idp.example/jwks"}"#.utf8)
        #expect(
            try DiscoveryDocument.jwksURL(from: good, issuer: "https://idp.example", discoveryURL: discovery).text == "https://keys.idp.example/jwks")
    }

    @Test func configurationValidation() throws {
        try RemoteKeyConfiguration(jwksURL: "https://idp.example/keys").validate(issuer: "anything")
        try RemoteKeyConfiguration().validate(issuer: "https://idp.example")
        #expect(throws: JWKSFetchError.self) { try RemoteKeyConfiguration(jwksURL: "idp.example/keys").validate(issuer: "x") }
        #expect(throws: JWKSFetchError.self) { try RemoteKeyConfiguration(discovery: false).validate(issuer: "https://idp.example") }
        #expect(throws: JWKSFetchError.self) {
            try RemoteKeyConfiguration(jwksURL: "https://idp.example/keys", defaultAlgorithm: .hs256).validate(issuer: "x")
        }
        #expect(throws: JWKSFetchError.self) {
            try RemoteKeyConfiguration(jwksURL: "https://idp.example/keys", maxDocumentSize: 0).validate(issuer: "x")
        }
    }

    @Test func discoveryURLIsBuiltFromTheIssuer() throws {
        let location = try JWKSLocation(issuer: "https://idp.example/tenant/", configuration: RemoteKeyConfiguration())
        #expect(location == .discovery(try #require(HTTPURL("https://idp.example/tenant/.well-known/openid-configuration"))))
        #expect(throws: JWKSFetchError.self) { try JWKSLocation(issuer: "https://idp.example/?x", configuration: RemoteKeyConfiguration()) }
    }
}
