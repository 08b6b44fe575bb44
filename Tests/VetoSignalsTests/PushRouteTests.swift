import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore
import VetoSignals

/// `POST /ssf/events` (RFC 8935): authentication first, then the SET.
@Suite struct PushRouteTests {
    typealias F = SignalFixture

    @Test func anAuthenticatedSETIsAppliedAndAnswered202() async throws {
        try await SignalRoutes.with { routes, client in
            let response = try await client.push(F.set() + "\n")
            #expect(response.status == .accepted && response.body.readableBytes == 0 && response.headers[.cacheControl] == "no-store")
            #expect(
                routes.effects.effects == [
                    SignalEffect(
                        tokenIssuer: F.op, kind: .subject, value: "user-1", at: routes.effects.effects.first?.at ?? 0,
                        createdBy: "ssf:https://tx.test")
                ])
            #expect(routes.count("ssf", "session-revoked", "applied") == 1)
        }
    }

    @Test func withoutTheConfiguredAuthorizationNothingIsParsed() async throws {
        try await SignalRoutes.with { routes, client in
            for authorization in [nil, "Bearer push-secret-012345678", "Bearer push-secret-01234567890", "bearer push-secret-0123456789", ""] {
                // Not even a SET: a 401 says nothing about the body.
                let response = try await client.push("garbage", authorization: authorization)
                #expect(response.status == .unauthorized, "\(authorization ?? "none")")
                #expect(response.vetoError == "push_unauthorized" && response.string("err") == "authentication_failed")
                #expect(response.headers[.wwwAuthenticate] != nil)
            }
            #expect(routes.count("ssf", "none", "refused") == 5 && routes.effects.effects.isEmpty)
        }
    }

    @Test func aSETMustComeFromTheTransmitterTheAuthorizationBelongsTo() async throws {
        try await SignalRoutes.with { routes, client in
            // tx's SET with the second transmitter's credentials: refused, never attributed to either.
            let response = try await client.push(F.set(), authorization: SignalRoutes.otherAuthorization)
            #expect(response.status == .badRequest && response.string("err") == "invalid_issuer" && response.vetoError == "issuer_unknown")
            #expect(routes.effects.effects.isEmpty)
        }
    }

    @Test func refusalsCarryTheRFC8935CodeAndVetosCode() async throws {
        try await SignalRoutes.with { routes, client in
            let cases: [(String, String, String)] = [
                (F.set(key: F.strangerRS), "invalid_key", "signature_invalid"),
                (F.set(alg: "RS512"), "invalid_key", "algorithm_not_allowed"),
                (F.set(aud: "https://elsewhere.test"), "invalid_audience", "audience_mismatch"),
                (F.set(typ: "JWT"), "invalid_request", "token_type_mismatch"),
                (F.set(event: #""subject":{"format":"account","uri":"acct:a@b"}"#), "invalid_request", "subject_unsupported"),
                ("a.b", "invalid_request", "malformed_token")
            ]
            for (set, err, code) in cases {
                let response = try await client.push(set)
                #expect(response.status == .badRequest, "\(code)")
                #expect(response.object.names == ["err", "description"] && response.string("err") == err && response.vetoError == code)
            }
            #expect(routes.effects.effects.isEmpty)
        }
    }

    @Test func aReplayIsRefusedAndAStoreFailureIs503WithoutRecordingTheJTI() async throws {
        let effects = RecordingEffects()
        try await SignalRoutes.with(effects: effects) { routes, client in
            let set = F.set(jti: "set-1")
            effects.fail(with: .unavailable("redis down"))
            let failed = try await client.push(set)
            #expect(
                failed.status == .serviceUnavailable && failed.string("err") == "temporarily_unavailable" && failed.vetoError == "store_unavailable")
            effects.fail(with: nil)
            #expect(try await client.push(set).status == .accepted)
            let replay = try await client.push(set)
            #expect(replay.status == .badRequest && replay.string("err") == "invalid_request" && replay.vetoError == "jti_replayed")
            #expect(effects.effects.count == 1)
            #expect(routes.count("ssf", "session-revoked", "failed") == 1 && routes.count("ssf", "session-revoked", "refused") == 1)
        }
    }

    @Test func verificationAndUnknownEventsAre202WithoutEffect() async throws {
        try await SignalRoutes.with { routes, client in
            let verification = try await client.push(F.set(SignalEvent.verification.rawValue, event: #""state":"s1""#))
            let unknown = try await client.push(F.set("https://example.com/x", event: ""))
            let claims = try await client.push(F.set(SignalEvent.tokenClaimsChange.rawValue))
            #expect([verification, unknown, claims].allSatisfy { $0.status == .accepted })
            #expect(routes.effects.effects.isEmpty)
            #expect(routes.count("ssf", "verification", "ignored") == 1 && routes.count("ssf", "unknown", "ignored") == 1)
            #expect(routes.count("ssf", "token-claims-change", "ignored") == 1)
        }
    }

    @Test func anotherContentTypeIs415AndAHugeBodyIs413() async throws {
        try await SignalRoutes.with(maxBodyBytes: 2048) { _, client in
            let json = try await client.push(F.set(), contentType: "application/json")
            #expect(json.status == .unsupportedMediaType && json.vetoError == "unsupported_media_type")
            #expect(try await client.push(F.set(), contentType: "Application/SecEvent+JWT; charset=utf-8").status == .accepted)
            let huge = try await client.push(String(repeating: "a", count: 4096))
            #expect(huge.status == .contentTooLarge && huge.vetoError == "body_too_large")
        }
    }
}
