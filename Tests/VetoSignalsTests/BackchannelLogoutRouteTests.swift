import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore
import VetoSignals

/// `POST /oidc/backchannel-logout`: answers, codes, and the store contract.
@Suite struct BackchannelLogoutRouteTests {
    typealias F = SignalFixture

    @Test func aValidLogoutTokenIsStoredAndAnswered200() async throws {
        try await SignalRoutes.with { routes, client in
            let response = try await client.logout("logout_token=\(F.logoutToken())&state=ignored")
            #expect(response.status == .ok && response.body.readableBytes == 0)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(routes.effects.effects.map(\.kind) == [.session] && routes.effects.effects[0].createdBy == "backchannel_logout")
            #expect(routes.count("backchannel_logout", "backchannel-logout", "applied") == 1)
        }
    }

    @Test func aRefusalIs400WithItsCodeInTheBodyAndTheHeaderAndStoresNothing() async throws {
        try await SignalRoutes.with { routes, client in
            let t = Int(F.now)
            let withNonce = F.logoutToken(
                claims: #""iss":"https://op.test","aud":"client-a","iat":\#(t),"exp":\#(t + 60),"jti":"j","sid":"s","nonce":"n",\#(F.logoutEvent)"#)
            let response = try await client.logout("logout_token=\(withNonce)")
            #expect(response.status == .badRequest && response.headers[.cacheControl] == "no-store")
            #expect(response.object.names == ["error", "error_description", "veto_error"])
            #expect(response.string("error") == "invalid_request" && response.string("veto_error") == "nonce_present")
            #expect(response.vetoError == "nonce_present")
            #expect(routes.effects.effects.isEmpty)
            #expect(routes.count("backchannel_logout", "backchannel-logout", "refused") == 1)
        }
    }

    @Test func aReplayedJTIIsRefusedAfterTheFirstWasStored() async throws {
        try await SignalRoutes.with { routes, client in
            let token = F.logoutToken(jti: "once")
            #expect(try await client.logout("logout_token=\(token)").status == .ok)
            let replay = try await client.logout("logout_token=\(token)")
            #expect(replay.status == .badRequest && replay.vetoError == "jti_replayed")
            #expect(routes.effects.effects.count == 1)
        }
    }

    @Test func aStoreFailureIs503AndTheRetryIsApplied() async throws {
        let effects = RecordingEffects()
        try await SignalRoutes.with(effects: effects) { routes, client in
            effects.fail(with: .unavailable("journal unwritable"))
            let token = F.logoutToken(jti: "retry-me")
            let failed = try await client.logout("logout_token=\(token)")
            #expect(failed.status == .serviceUnavailable && failed.vetoError == "store_unavailable")
            #expect(failed.string("error") == "temporarily_unavailable" && failed.string("veto_error") == "store_unavailable")
            #expect(failed.headers[.retryAfter] == "1")
            #expect(routes.count("backchannel_logout", "backchannel-logout", "failed") == 1)
            // The jti was not recorded: the OP's retry is applied.
            effects.fail(with: nil)
            #expect(try await client.logout("logout_token=\(token)").status == .ok)
            #expect(effects.effects.count == 1)
        }
    }

    @Test func aValueTheStoreRefusesIs400() async throws {
        let effects = RecordingEffects()
        try await SignalRoutes.with(effects: effects) { _, client in
            effects.fail(with: .rejected("the value is too long"))
            let response = try await client.logout("logout_token=\(F.logoutToken())")
            #expect(response.status == .badRequest && response.vetoError == "malformed_claim")
        }
    }

    @Test(arguments: [
        ("", "malformed_token"), ("logout_token=", "malformed_token"), ("token=abc", "malformed_token"),
        ("logout_token=a.b.c&logout_token=a.b.c", "malformed_token"), ("logout_token=%zz", "malformed_token"),
        ("logout_token=not-a-jwt", "malformed_token")
    ])
    func formsWithoutOneReadableTokenAre400(form: String, code: String) async throws {
        try await SignalRoutes.with { routes, client in
            let response = try await client.logout(form)
            #expect(response.status == .badRequest && response.vetoError == code, "\(form)")
            #expect(routes.effects.effects.isEmpty)
        }
    }

    @Test func anotherContentTypeIs415AndAHugeBodyIs413() async throws {
        try await SignalRoutes.with(maxBodyBytes: 1024) { routes, client in
            let json = try await client.logout(#"{"logout_token":"x"}"#, contentType: "application/json")
            #expect(json.status == .unsupportedMediaType && json.vetoError == "unsupported_media_type")
            let huge = try await client.logout("logout_token=" + String(repeating: "a", count: 4096))
            #expect(huge.status == .contentTooLarge && huge.vetoError == "body_too_large")
            #expect(routes.count("backchannel_logout", "none", "refused") == 2)
        }
    }

    @Test func aSETIsNotALogoutToken() async throws {
        try await SignalRoutes.with { routes, client in
            let response = try await client.logout("logout_token=\(F.set())")
            #expect(response.status == .badRequest && response.vetoError == "issuer_unknown")
            #expect(routes.effects.effects.isEmpty)
        }
    }
}
