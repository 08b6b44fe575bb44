import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore
import VetoStore

@testable import VetoServer

/// `/v1/admin/revocations`: revoke by (iss, jti[, exp, sub]) or by token, read, list with paging
/// and filters, delete; and every refusal on the way.
@Suite struct AdminRevocationTests {
    static let path = "/v1/admin/revocations"
    static let iss = query(ControlPlaneFixture.issuer)

    @Test func revokeByIdentifierStoresTheEntryAndAnswersIt() async throws {
        try await withControlPlane { fixture, client in
            let exp = fixture.now + 600
            let response = try await client.send(
                .post, Self.path, as: .admin,
                json: #"{"iss":"https://auth.test","jti":"adm: 1 é","exp":\#(Int(exp)),"sub":"user_9","reason":"compromised"}"#)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json" && response.headers[.cacheControl] == "no-store")
            #expect(response.object.names == ["iss", "jti", "sub", "exp", "revoked_at", "reason", "actor", "expires_at", "expires_at_unix"])
            #expect(response.string("iss") == ControlPlaneFixture.issuer && response.string("jti") == "adm: 1 é")
            #expect(response.string("sub") == "user_9" && response.number("exp") == exp)
            #expect(response.string("reason") == "compromised" && response.string("actor") == "admin")
            #expect(response.number("expires_at_unix") == exp + ControlPlaneFixture.leeway)
            #expect(response.string("expires_at") == UTCTime.iso8601(exp + ControlPlaneFixture.leeway))
            let stored = try #require(try await fixture.blocklist.entry(issuer: ControlPlaneFixture.issuer, jti: "adm: 1 é"))
            #expect(stored.reason == "compromised" && stored.actor == "admin" && stored.subject == "user_9")
            #expect(response.object == RevocationJSON.entry(stored))
        }
    }

    @Test func withoutExpOrReasonTheEntryLivesTheLongestTokenLifetime() async throws {
        try await withControlPlane { fixture, client in
            let response = try await client.send(.post, Self.path, as: .admin, json: #"{"iss":"https://auth.test","jti":"no-exp"}"#)
            #expect(response.status == .ok)
            #expect(response.string("reason") == "admin")
            #expect(response.object["exp"] == .null && response.object["sub"] == .null)
            #expect(try #require(response.number("expires_at_unix")) >= fixture.now + 86_400 + ControlPlaneFixture.leeway - 1)
        }
    }

    @Test func revokeByTokenStoresItsJtiSubjectAndExpiry() async throws {
        try await withControlPlane { fixture, client in
            let token = try fixture.token(jti: "by-token", subject: "user_7")
            let exp = try #require(try ControlPlaneFixture.claims(of: token)["exp"]?.numberValue?.doubleValue)
            let response = try await client.send(.post, Self.path, as: .admin, json: #"{"token":"\#(token)","reason":"stolen"}"#)
            #expect(response.status == .ok)
            #expect(response.string("jti") == "by-token" && response.string("sub") == "user_7" && response.string("reason") == "stolen")
            #expect(response.number("exp") == exp && response.number("expires_at_unix") == exp + ControlPlaneFixture.leeway)
            let status = try await fixture.blocklist.status(issuer: ControlPlaneFixture.issuer, jti: "by-token", subject: nil, issuedAt: nil)
            guard case .tokenRevoked = status else { Issue.record("not revoked: \(status)"); return }
        }
    }

    @Test func aTokenThatDoesNotVerifyIsNotRevoked() async throws {
        try await withControlPlane { fixture, client in
            let cases: [(String, String)] = [
                (try fixture.token(key: ControlPlaneFixture.stranger), ReasonCode.signatureInvalid.rawValue),
                (try fixture.token(extra: ["exp": .number(JSONNumber(Int64(fixture.now - 3600)))]), ReasonCode.tokenExpired.rawValue),
                (try fixture.token(extra: ["aud": .string("https://other.test")]), ReasonCode.audienceMismatch.rawValue),
                ("not-a-token", ReasonCode.malformedToken.rawValue)
            ]
            for (token, code) in cases {
                let response = try await client.send(.post, Self.path, as: .admin, json: #"{"token":"\#(token)"}"#)
                #expect(response.status == .unprocessableContent, "\(code)")
                #expect(response.errorCode == code)
                #expect(response.message?.hasPrefix("The token cannot be revoked because it does not verify: ") == true)
            }
            #expect(try await fixture.blocklist.count().tokens == 0)
        }
    }

    @Test(arguments: [
        ("{not json", "invalid_request", "The body is not a JSON object"),
        (#"["iss","jti"]"#, "invalid_request", "The body is not a JSON object"),
        ("", "invalid_request", "The body is not a JSON object"),
        (#"{"iss":"https://auth.test"}"#, "invalid_request", #"The field "jti" is required."#),
        (#"{"jti":"x"}"#, "invalid_request", #"The field "iss" is required."#),
        (#"{"iss":"https://auth.test","jti":7}"#, "invalid_request", #"The field "jti" must be a non-empty string"#),
        (#"{"iss":"https://auth.test","jti":""}"#, "invalid_request", #"The field "jti" must be a non-empty string"#),
        (#"{"iss":"https://auth.test","jti":"x","exp":"soon"}"#, "invalid_request", #"The field "exp" must be a NumericDate"#),
        (#"{"iss":"https://auth.test","jti":"x","reason":false}"#, "invalid_request", #"The field "reason" must be a non-empty string"#),
        (#"{"token":""}"#, "invalid_request", #"The field "token" must be a non-empty string"#),
        (
            #"{"iss":"https://nope","jti":"1"}"#, "issuer_unknown",
            #""https://nope" is not a configured issuer (configured, compared byte for byte: "https://auth.test")."#
        ),
        // The same issuer only up to case or canonical equivalence is another issuer (security finding 6).
        (#"{"iss":"HTTPS://AUTH.TEST","jti":"1"}"#, "issuer_unknown", "is not a configured issuer")
    ])
    func aBadRevocationIsRefusedWithA400(body: String, code: String, message: String) async throws {
        try await withControlPlane { fixture, client in
            let response = try await client.send(.post, Self.path, as: .admin, json: body)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
            #expect(response.message?.contains(message) == true, "\(response.message ?? "")")
            #expect(try await fixture.blocklist.count().tokens == 0)
        }
    }

    @Test func aStoreLimitIsA400NotA503() async throws {
        try await withControlPlane { _, client in
            let jti = String(repeating: "j", count: 513)
            let response = try await client.send(.post, Self.path, as: .admin, json: #"{"iss":"https://auth.test","jti":"\#(jti)"}"#)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_request")
        }
    }

    @Test func aBodyOverTheLimitIsA413() async throws {
        try await withControlPlane { _, client in
            let padding = String(repeating: "x", count: Limits().maxBodyBytes)
            let response = try await client.send(.post, Self.path, as: .admin, json: #"{"iss":"https://auth.test","jti":"x","reason":"\#(padding)"}"#)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "body_too_large")
        }
    }

    @Test func readAnswersTheEntryOrA404() async throws {
        try await withControlPlane { _, client in
            _ = try await client.send(.post, Self.path, as: .admin, json: #"{"iss":"https://auth.test","jti":"a&b é","reason":"r1"}"#)
            let found = try await client.send(.get, "\(Self.path)?iss=\(Self.iss)&jti=\(query("a&b é"))", as: .admin)
            #expect(found.status == .ok)
            #expect(found.string("jti") == "a&b é" && found.string("reason") == "r1")
            let head = try await client.send(.head, "\(Self.path)?iss=\(Self.iss)&jti=\(query("a&b é"))", as: .admin)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            let missing = try await client.send(.get, "\(Self.path)?iss=\(Self.iss)&jti=other", as: .admin)
            #expect(missing.status == .notFound && missing.errorCode == "not_found")
            #expect(missing.message == #"No revocation entry for jti "other" of issuer "https://auth.test"."#)
            let noIssuer = try await client.send(.get, "\(Self.path)?jti=other", as: .admin)
            #expect(noIssuer.status == .badRequest && noIssuer.message == "Reading an entry needs iss as well as jti.")
        }
    }

    @Test func listPagesThroughEveryEntryWithACursor() async throws {
        try await withControlPlane { fixture, client in
            for index in 1...5 {
                let response = try await client.send(
                    .post, Self.path, as: .admin,
                    json: #"{"iss":"https://auth.test","jti":"page-\#(index)","sub":"user_\#(index % 2)","reason":"r\#(index % 2)"}"#)
                #expect(response.status == .ok)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "\(Self.path)?iss=\(Self.iss)&limit=2" + (cursor.map { "&cursor=\(query($0))" } ?? "")
                let page = try await client.send(.get, uri, as: .admin)
                #expect(page.status == .ok)
                let entries = try #require(page.object["entries"]?.arrayValue)
                #expect(entries.count <= 2)
                seen += entries.compactMap { $0.objectValue?["jti"]?.stringValue }
                cursor = page.object["next_cursor"]?.stringValue
                #expect(cursor != nil || page.object["next_cursor"] == .null)
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen.sorted() == (1...5).map { "page-\($0)" })
            #expect(pages == 3)

            let byReason = try await client.send(.get, "\(Self.path)?reason=r1", as: .admin)
            #expect(
                byReason.object["entries"]?.arrayValue?.compactMap { $0.objectValue?["jti"]?.stringValue }.sorted() == ["page-1", "page-3", "page-5"])
            let bySubject = try await client.send(.get, "\(Self.path)?sub=user_0&iss=\(Self.iss)", as: .admin)
            #expect(bySubject.object["entries"]?.arrayValue?.count == 2)
            #expect(bySubject.object["next_cursor"] == .null)
            let listed = try await fixture.blocklist.list(BlocklistQuery(issuer: nil, subject: nil, reason: nil, cursor: nil, limit: 100))
            #expect(listed.entries.count == 5)
        }
    }

    @Test(arguments: ["limit=0", "limit=1001", "limit=ten", "limit=-1", "cursor=%00garbage"])
    func aBadListQueryIsA400(parameters: String) async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.get, "\(Self.path)?\(parameters)", as: .admin)
            #expect(response.status == .badRequest, "\(parameters)")
            #expect(response.errorCode == "invalid_request")
        }
    }

    @Test func deleteRemovesTheEntryOnce() async throws {
        try await withControlPlane { fixture, client in
            _ = try await client.send(.post, Self.path, as: .admin, json: #"{"iss":"https://auth.test","jti":"gone soon"}"#)
            let uri = "\(Self.path)?iss=\(Self.iss)&jti=\(query("gone soon"))"
            let removed = try await client.send(.delete, uri, as: .admin)
            #expect(removed.status == .ok && removed.text == #"{"removed":true}"#)
            #expect(try await fixture.blocklist.entry(issuer: ControlPlaneFixture.issuer, jti: "gone soon") == nil)
            let again = try await client.send(.delete, uri, as: .admin)
            #expect(again.status == .notFound && again.errorCode == "not_found")
            let incomplete = try await client.send(.delete, "\(Self.path)?iss=\(Self.iss)", as: .admin)
            #expect(incomplete.status == .badRequest && incomplete.message == "Removing an entry needs iss and jti query parameters.")
        }
    }

    @Test func aClosedStoreIsA503WithRetryAfterAndNoStoreDetail() async throws {
        try await withControlPlane { fixture, client in
            await fixture.blocklist.close()
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.post, Self.path, #"{"iss":"https://auth.test","jti":"x"}"#),
                (.get, "\(Self.path)?iss=\(Self.iss)&jti=x", nil),
                (.get, Self.path, nil),
                (.delete, "\(Self.path)?iss=\(Self.iss)&jti=x", nil)
            ]
            for (method, uri, body) in requests {
                let response = try await client.send(method, uri, as: .admin, json: body)
                #expect(response.status == .serviceUnavailable, "\(method) \(uri)")
                #expect(response.errorCode == "store_unavailable")
                #expect(response.headers[.retryAfter] == "1")
                #expect(response.message == "The blocklist store is unavailable, so nothing was read or written; retry shortly.")
            }
            #expect(fixture.metrics.exposition().contains("veto_store_errors_total 4"))
        }
    }
}
