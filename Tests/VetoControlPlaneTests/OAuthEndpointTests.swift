import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore
import VetoStore

@testable import VetoServer

/// RFC 7662 introspection and RFC 7009 revocation: client authentication (Basic or the admin
/// token), the client binding of revocation (`client_id`, `azp`, `revoke_any`), and the refusals.
@Suite struct OAuthEndpointTests {
    static let gateway = Caller.client(id: ControlPlaneFixture.gateway.id, secret: ControlPlaneFixture.gateway.secret)
    static let opsTool = Caller.client(id: ControlPlaneFixture.opsTool.id, secret: ControlPlaneFixture.opsTool.secret)

    static let unauthenticated: [Caller] = [
        .anonymous,
        .client(id: "gateway", secret: "wrong"),
        .client(id: "nobody", secret: "gateway-secret"),
        .client(id: "Gateway", secret: "gateway-secret"),
        .header("Basic !!!not-base64"),
        .header("Bearer wrong-token")
    ]

    @Test(arguments: ["/oauth2/introspect", "/oauth2/revoke"])
    func anUnauthenticatedClientGetsInvalidClientWithABasicChallenge(path: String) async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(extra: ["client_id": .string("gateway")])
            for caller in Self.unauthenticated {
                let response = try await client.send(.post, path, as: caller, form: "token=\(token)")
                #expect(response.status == .unauthorized, "\(caller)")
                #expect(response.errorCode == "invalid_client")
                #expect(response.headers[.wwwAuthenticate] == #"Basic realm="veto""#)
            }
            #expect(try await fixture.blocklist.count().tokens == 0)
        }
    }

    @Test(arguments: [gateway, opsTool, Caller.admin])
    func introspectingALiveTokenAnswersItsClaims(caller: Caller) async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(jti: "live-1", subject: "user_5", extra: ["scope": .string("read write"), "client_id": .string("gateway")])
            let claims = try ControlPlaneFixture.claims(of: token)
            let response = try await client.send(.post, "/oauth2/introspect", as: caller, form: "token=\(token)&token_type_hint=access_token")
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.object["active"] == .bool(true))
            #expect(response.string("sub") == "user_5" && response.string("jti") == "live-1" && response.string("iss") == ControlPlaneFixture.issuer)
            #expect(response.string("scope") == "read write" && response.string("client_id") == "gateway")
            #expect(response.object["exp"] == claims["exp"] && response.object["iat"] == claims["iat"])
            #expect(response.string("aud") == ControlPlaneFixture.audience && response.string("token_type") == "Bearer")
            #expect(response.headers[HTTPField.Name.vetoDegraded] == nil)
        }
    }

    @Test func anInactiveTokenRevealsNothingElse() async throws {
        try await withControlPlane { fixture, client in
            let revoked = try fixture.token(jti: "revoked-1")
            _ = try await client.send(.post, "/v1/admin/revocations", as: .admin, json: #"{"token":"\#(revoked)"}"#)
            let tokens = [
                revoked, try fixture.token(key: ControlPlaneFixture.stranger), "garbage",
                try fixture.token(extra: ["exp": .number(JSONNumber(Int64(fixture.now - 3600)))])
            ]
            for token in tokens {
                let response = try await client.send(.post, "/oauth2/introspect", as: Self.gateway, form: "token=\(token)")
                #expect(response.status == .ok)
                #expect(response.text == #"{"active":false}"#)
            }
            let metrics = fixture.metrics.exposition()
            #expect(metrics.contains(#"veto_requests_total{route="introspect",outcome="denied"} 4"#))
            #expect(metrics.contains(#"veto_rejections_total{reason="token_revoked"} 1"#))
        }
    }

    @Test(arguments: [
        ("", nil, "The token parameter is required (RFC 7662 §2.1)."),
        ("token=", nil, "The token parameter is required (RFC 7662 §2.1)."),
        ("token_type_hint=access_token", nil, "The token parameter is required (RFC 7662 §2.1)."),
        ("token=a&token=b", nil, #"The form field "token" appears twice (RFC 6749 §3.1)."#),
        ("token=%zz", nil, #"The form field "token" is not valid percent-encoding."#),
        (#"{"token":"a"}"#, "application/json", "Send the parameters as application/x-www-form-urlencoded (RFC 6749 §2.3).")
    ])
    func aBadIntrospectionRequestIsA400(form: String, contentType: String?, message: String) async throws {
        try await withControlPlane { _, client in
            let headers: HTTPFields = contentType.map { [.contentType: $0] } ?? [:]
            let response = try await client.send(.post, "/oauth2/introspect", as: Self.gateway, form: form, headers: headers)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
            #expect(response.message == message)
        }
    }

    @Test(arguments: [("client_id", "gateway"), ("azp", "gateway")])
    func aClientRevokesItsOwnToken(claim: String, owner: String) async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(jti: "own-1", subject: "user_3", extra: [claim: .string(owner)])
            let response = try await client.send(.post, "/oauth2/revoke", as: Self.gateway, form: "token=\(token)&token_type_hint=access_token")
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.body.readableBytes == 0)
            let entry = try #require(try await fixture.blocklist.entry(issuer: ControlPlaneFixture.issuer, jti: "own-1"))
            #expect(entry.reason == "oauth_revoke" && entry.actor == "client:gateway" && entry.subject == "user_3")
            let introspected = try await client.send(.post, "/oauth2/introspect", as: Self.gateway, form: "token=\(token)")
            #expect(introspected.text == #"{"active":false}"#)
            #expect(fixture.metrics.exposition().contains(#"veto_revocations_total{kind="oauth"} 1"#))
        }
    }

    @Test(arguments: [
        (["client_id": JSONValue.string("other")], "The token was issued to another client"),
        (["azp": .string("other")], "The token was issued to another client"),
        // client_id decides when present, even when it is no string: azp is not looked at then.
        (["client_id": .number(JSONNumber(7)), "azp": .string("gateway")], "The token names no client"),
        ([:], "The token names no client (client_id or azp)")
    ])
    func aClientMayNotRevokeAnotherClientsToken(extra: [String: JSONValue], message: String) async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(jti: "theirs", extra: extra)
            let response = try await client.send(.post, "/oauth2/revoke", as: Self.gateway, form: "token=\(token)")
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "unauthorized_client")
            #expect(response.message?.hasPrefix(message) == true, "\(response.message ?? "")")
            #expect(try await fixture.blocklist.count().tokens == 0)
        }
    }

    @Test(arguments: [opsTool, Caller.admin])
    func revokeAnyAndTheAdminTokenRevokeAnyToken(caller: Caller) async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(jti: "any-1", extra: ["client_id": .string("other")])
            let response = try await client.send(.post, "/oauth2/revoke", as: caller, form: "token=\(token)")
            #expect(response.status == .ok)
            let entry = try #require(try await fixture.blocklist.entry(issuer: ControlPlaneFixture.issuer, jti: "any-1"))
            let expected = if case .admin = caller { "client:admin" } else { "client:ops tool" }
            #expect(entry.actor == expected)
        }
    }

    @Test func anInvalidTokenIsNotAnErrorAndStoresNothing() async throws {
        try await withControlPlane { fixture, client in
            for token in ["unknown-token", try fixture.token(extra: ["client_id": .string("gateway")], key: ControlPlaneFixture.stranger)] {
                let response = try await client.send(.post, "/oauth2/revoke", as: Self.gateway, form: "token=\(token)&token_type_hint=weird")
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            #expect(try await fixture.blocklist.count().tokens == 0)
            #expect(fixture.metrics.exposition().contains(#"veto_requests_total{route="oauth_revoke",outcome="denied"} 2"#))
        }
    }

    @Test func aRevocationWithoutATokenIsA400() async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.post, "/oauth2/revoke", as: Self.gateway, form: "token_type_hint=access_token")
            #expect(response.status == .badRequest && response.errorCode == "invalid_request")
            #expect(response.message == "The token parameter is required (RFC 7009 §2.1).")
        }
    }

    @Test func aClosedStoreIsA503ForBothEndpoints() async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(extra: ["client_id": .string("gateway")])
            await fixture.blocklist.close()
            for path in ["/oauth2/introspect", "/oauth2/revoke"] {
                let response = try await client.send(.post, path, as: Self.gateway, form: "token=\(token)")
                #expect(response.status == .serviceUnavailable, "\(path)")
                #expect(response.errorCode == "store_unavailable" && response.headers[.retryAfter] == "1")
            }
        }
    }
}
