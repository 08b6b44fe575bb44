import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import VetoCore

@testable import VetoServer

/// `/healthz`, `/readyz` (summary for anyone, detail for the admin) and `/metrics`, and HEAD on them.
@Suite struct HealthRoutesTests {
    static let problem = ReadinessProblem(
        summary: "no keys loaded yet for 1 of 1 issuers",
        detail: "no keys loaded yet for \"https://auth.test\"")

    @Test func healthzAnswersOkAsJSON() async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.get, "/healthz")
            #expect(response.status == .ok)
            #expect(response.text == #"{"status":"ok"}"#)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.cacheControl] == "no-store")
        }
    }

    @Test(arguments: ["/healthz", "/readyz", "/metrics"])
    func headAnswersLikeGetWithoutABody(path: String) async throws {
        try await withControlPlane { _, client in
            let get = try await client.send(.get, path)
            let head = try await client.send(.head, path)
            #expect(head.status == get.status)
            #expect(head.headers[.contentType] == get.headers[.contentType])
            #expect(head.body.readableBytes == 0)
            #expect(get.body.readableBytes > 0)
        }
    }

    @Test func readyzIsReadyWithoutProblems() async throws {
        try await withControlPlane { _, client in
            let response = try await client.send(.get, "/readyz")
            #expect(response.status == .ok)
            #expect(response.text == #"{"ready":true,"problems":[]}"#)
        }
    }

    @Test func readyzGivesAnyoneTheSummaryAndOnlyTheAdminTheDetail() async throws {
        try await withControlPlane(readiness: [Self.problem]) { _, client in
            for caller in [Caller.anonymous, .header("Bearer wrong-token"), .header("Basic \(ControlPlaneFixture.adminToken)")] {
                let response = try await client.send(.get, "/readyz", as: caller)
                #expect(response.status == .serviceUnavailable)
                #expect(response.object["ready"] == .bool(false))
                #expect(response.object["problems"] == .array([.string(Self.problem.summary)]), "\(caller)")
            }
            let admin = try await client.send(.get, "/readyz", as: .admin)
            #expect(admin.status == .serviceUnavailable)
            #expect(admin.object["problems"] == .array([.string(Self.problem.detail)]))
        }
    }

    @Test func readyzDetailNeedsTheAdminTokenToBeConfigured() async throws {
        try await withControlPlane(adminToken: nil, readiness: [Self.problem]) { _, client in
            let response = try await client.send(.get, "/readyz", as: .admin)
            #expect(response.object["problems"] == .array([.string(Self.problem.summary)]))
        }
    }

    @Test func metricsArePrometheusTextAndCountRevocations() async throws {
        try await withControlPlane { _, client in
            let revoked = try await client.send(
                .post, "/v1/admin/revocations", as: .admin,
                json: #"{"iss":"https://auth.test","jti":"metrics-1"}"#)
            #expect(revoked.status == .ok)
            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.text.contains("# TYPE veto_revocations_total counter"))
            #expect(response.text.contains(#"veto_revocations_total{kind="admin"} 1"#))
            #expect(response.text.contains(#"veto_revocations_total{kind="oauth"} 0"#))
        }
    }
}
