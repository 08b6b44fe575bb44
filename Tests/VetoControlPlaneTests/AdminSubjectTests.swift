import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore
import VetoStore

@testable import VetoServer

/// `/v1/admin/subjects`: a subject cut-off refuses every token of the subject issued up to now.
@Suite struct AdminSubjectTests {
    static let path = "/v1/admin/subjects"
    static let iss = query(ControlPlaneFixture.issuer)

    @Test func revokeSubjectStoresACutoffAndRefusesEarlierTokens() async throws {
        try await withControlPlane { fixture, client in
            let earlier = try fixture.token(subject: "user sub")
            let before = fixture.now
            let response = try await client.send(
                .post, Self.path, as: .admin,
                json: #"{"iss":"https://auth.test","sub":"user sub","reason":"password reset"}"#)
            #expect(response.status == .ok)
            #expect(
                response.object.names == [
                    "iss", "by", "value", "sub", "cutoff", "cutoff_unix", "reissue_at", "revoked_at", "reason", "actor", "created_by", "expires_at"
                ])
            #expect(response.string("by") == "sub" && response.string("created_by") == "admin")
            #expect(response.string("iss") == ControlPlaneFixture.issuer && response.string("sub") == "user sub")
            #expect(response.string("reason") == "password reset" && response.string("actor") == "admin")
            let cutoff = try #require(response.number("cutoff_unix"))
            #expect(cutoff >= before && cutoff < before + 5)
            #expect(response.string("cutoff") == UTCTime.iso8601(cutoff))
            #expect(response.string("reissue_at") == UTCTime.iso8601(cutoff.rounded(.down) + 1))
            let stored = try #require(try await fixture.blocklist.subjectCutoff(issuer: ControlPlaneFixture.issuer, subject: "user sub"))
            #expect(response.object == RevocationJSON.cutoff(stored))

            // The same cut-off reads back, and a token issued before it is no longer active.
            let read = try await client.send(.get, "\(Self.path)?iss=\(Self.iss)&sub=\(query("user sub"))", as: .admin)
            #expect(read.status == .ok && read.object == response.object)
            let introspected = try await client.send(.post, "/oauth2/introspect", as: .admin, form: "token=\(earlier)")
            #expect(introspected.text == #"{"active":false}"#)
            #expect(fixture.metrics.exposition().contains(#"veto_revocations_total{kind="subject"} 1"#))
        }
    }

    @Test func theReasonDefaultsToAdmin() async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.post, Self.path, as: .admin, json: #"{"iss":"https://auth.test","sub":"u"}"#)
            #expect(response.status == .ok && response.string("reason") == "admin")
        }
    }

    @Test(arguments: [
        (#"{"iss":"https://auth.test"}"#, "invalid_request", #"The field "sub" is required."#),
        (#"{"sub":"u"}"#, "invalid_request", #"The field "iss" is required."#),
        (#"{"iss":"https://auth.test","sub":["u"]}"#, "invalid_request", #"The field "sub" must be a non-empty string, not an array."#),
        ("{not json", "invalid_request", "The body is not a JSON object"),
        (#"{"iss":"https://elsewhere.test","sub":"u"}"#, "issuer_unknown", #""https://elsewhere.test" is not a configured issuer"#)
    ])
    func aBadSubjectRevocationIsRefusedWithA400(body: String, code: String, message: String) async throws {
        try await withControlPlane { fixture, client in
            let response = try await client.send(.post, Self.path, as: .admin, json: body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
            #expect(response.message?.contains(message) == true, "\(response.message ?? "")")
            #expect(try await fixture.blocklist.count().subjects == 0)
        }
    }

    @Test func readingAnUnknownOrIncompleteSubjectIsRefused() async throws {
        try await withControlPlane { _, client in
            let unknown = try await client.send(.get, "\(Self.path)?iss=\(Self.iss)&sub=nobody", as: .admin)
            #expect(unknown.status == .notFound && unknown.errorCode == "not_found")
            #expect(unknown.message == #"Subject "nobody" of issuer "https://auth.test" has no cut-off."#)
            let incomplete = try await client.send(.get, "\(Self.path)?sub=nobody", as: .admin)
            #expect(incomplete.status == .badRequest && incomplete.errorCode == "invalid_request")
            #expect(incomplete.message == "Reading a subject cut-off needs iss and sub query parameters.")
        }
    }
}
