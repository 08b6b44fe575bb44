import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore

@testable import VetoServer

/// `/openapi.json`, the decoder page at `/` and `/decode`, and what requests no route matches get.
@Suite struct DocumentAndUnmatchedRouteTests {
    @Test func openAPIDocumentIsServedAsJSON() async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.get, "/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.cacheControl] == "no-cache")
            let paths = response.object["paths"]?.objectValue
            for path in ["/v1/admin/revocations", "/v1/admin/subjects", "/oauth2/introspect", "/oauth2/revoke", "/healthz", "/readyz"] {
                #expect(paths?[path] != nil, "\(path)")
            }
            let head = try await client.send(.head, "/openapi.json")
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.headers[.contentType] == "application/json")
        }
    }

    @Test(arguments: ["/", "/decode"])
    func decoderPageIsSelfContainedHTML(path: String) async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.get, path)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            // The page never needs the network: nothing but its own inline script and style.
            let policy = response.headers[.contentSecurityPolicy] ?? ""
            #expect(policy.hasPrefix("default-src 'none';") && policy.contains("connect-src 'none'"), "\(policy)")
            #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(response.text.lowercased().hasPrefix("<!doctype html>"))
            let head = try await client.send(.head, path)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.headers[.contentType] == "text/html; charset=utf-8")
        }
    }

    @Test(arguments: ["/nope", "/v1/admin/unknown", "/oauth2/token", "/healthz/extra"])
    func anUnknownPathIsA404WithACode(path: String) async throws {
        try await withControlPlane { _, client in
            // Admin paths no route serves are not behind the admin middleware: 404, not 401.
            let response = try await client.send(.get, path)
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
            #expect(response.message == "There is no route GET \(path); see GET /openapi.json.")
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.allow] == nil)
        }
    }

    @Test(arguments: [
        (HTTPRequest.Method.post, "/healthz", "GET, HEAD"),
        (.delete, "/readyz", "GET, HEAD"),
        (.get, "/oauth2/revoke", "POST"),
        (.get, "/oauth2/introspect", "POST"),
        (.put, "/v1/admin/revocations", "GET, HEAD, POST, DELETE"),
        (.delete, "/v1/admin/subjects", "GET, HEAD, POST"),
        (.post, "/openapi.json", "GET, HEAD")
    ])
    func aKnownPathUnderAnotherMethodIsA405WithAllow(method: HTTPRequest.Method, path: String, allowed: String) async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(method, path, as: .admin)
            #expect(response.status == .methodNotAllowed)
            #expect(response.errorCode == "method_not_allowed")
            #expect(response.headers[.allow] == allowed)
            #expect(response.message == "\(path) does not answer \(method.rawValue); it answers \(allowed).")
        }
    }
}
