import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore
import VetoStore

@testable import VetoServer

/// `AdminAuthMiddleware` on the admin group: every admin route, whatever its method, answers the
/// same 401 without the admin token and 404 `admin_disabled` when no admin token is configured.
@Suite struct AdminAuthTests {
    static let routes: [(HTTPRequest.Method, String)] = [
        (.post, "/v1/admin/revocations"),
        (.get, "/v1/admin/revocations?iss=https%3A%2F%2Fauth.test&jti=j"),
        (.get, "/v1/admin/revocations"),
        (.head, "/v1/admin/revocations?iss=https%3A%2F%2Fauth.test&jti=j"),
        (.delete, "/v1/admin/revocations?iss=https%3A%2F%2Fauth.test&jti=j"),
        (.post, "/v1/admin/subjects"),
        (.get, "/v1/admin/subjects?iss=https%3A%2F%2Fauth.test&sub=u"),
        (.head, "/v1/admin/subjects?iss=https%3A%2F%2Fauth.test&sub=u")
    ]

    static let refusals: [Caller] = [
        .anonymous,
        .header("Bearer wrong-token"),
        .header("Bearer \(ControlPlaneFixture.adminToken)x"),
        .header("Bearer " + String(ControlPlaneFixture.adminToken.dropLast())),
        .header("Basic \(ControlPlaneFixture.adminToken)"),
        .header(ControlPlaneFixture.adminToken),
        .header("Bearer"),
        .header("Bearer "),
        .client(id: ControlPlaneFixture.gateway.id, secret: ControlPlaneFixture.gateway.secret)
    ]

    @Test(arguments: routes)
    func everyAdminRouteRefusesWithoutTheAdminToken(method: HTTPRequest.Method, uri: String) async throws {
        try await withControlPlane { fixture, client in
            for caller in Self.refusals {
                // A body that would be refused is never read: authentication comes first.
                let response = try await client.send(method, uri, as: caller, json: method == .post ? "{not json" : nil)
                #expect(response.status == .unauthorized, "\(method) \(uri) as \(caller)")
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="veto-admin""#)
                #expect(response.headers[.cacheControl] == "no-store")
                if method != .head {
                    #expect(response.errorCode == "unauthorized")
                    #expect(response.message == "This endpoint needs the admin token: Authorization: Bearer <admin token>.")
                }
            }
            #expect(try await fixture.blocklist.count() == BlocklistCount(tokens: 0, subjects: 0))
        }
    }

    @Test(arguments: routes)
    func everyAdminRouteIsDisabledWithoutAnAdminToken(method: HTTPRequest.Method, uri: String) async throws {
        try await withControlPlane(adminToken: nil) { _, client in
            for caller in [Caller.anonymous, .admin] {
                let response = try await client.send(method, uri, as: caller, json: method == .post ? "{}" : nil)
                #expect(response.status == .notFound, "\(method) \(uri) as \(caller)")
                #expect(response.headers[.wwwAuthenticate] == nil)
                if method != .head {
                    #expect(response.errorCode == "admin_disabled")
                    #expect(response.message == "The admin API is disabled: start veto serve with --admin-token-file.")
                }
            }
        }
    }

    /// `BearerCredentials.parse`, the data plane's parser, decides: any case of the scheme, spaces around the token.
    @Test(arguments: [
        "Bearer \(ControlPlaneFixture.adminToken)", "bearer \(ControlPlaneFixture.adminToken)",
        "BEARER   \(ControlPlaneFixture.adminToken)  "
    ])
    func theAdminTokenIsReadByTheOneBearerParser(header: String) async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(
                .post, "/v1/admin/revocations", as: .header(header),
                json: #"{"iss":"https://auth.test","jti":"spelled"}"#)
            #expect(response.status == .ok)
            #expect(response.string("jti") == "spelled")
        }
    }
}
