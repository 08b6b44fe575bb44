import NIOCore
import VetoCore
import VetoStore

/// The check engine as control-plane routes use it: tokens presented in a body (admin revoke by
/// token, the OAuth endpoints), the configured issuers, and what revoking a verified token stores.
struct TokenVerifier: Sendable {
    let engine: CheckEngine
    /// Loops for engine calls made from Hummingbird handlers (the request context has no channel).
    let eventLoopGroup: any EventLoopGroup

    /// The configured issuers, as configured.
    var issuers: [String] { engine.issuers.map(\.name) }

    /// Signature and claims only; the blocklist is not consulted (revoking twice is fine).
    func validate(_ token: String) async throws -> CheckEngine.Report {
        try await engine.validate(Array(token.utf8), on: eventLoopGroup.any()).get()
    }

    /// The full check, blocklist included, without the verification cache (introspection).
    func check(_ token: String) async throws -> CheckOutcome {
        try await engine.check(Array(token.utf8), on: eventLoopGroup.any(), useCache: false).get()
    }

    /// The revocation of a token that verified, under its issuer as configured; nil when it did not verify.
    func revocation(of report: CheckEngine.Report, reason: String, actor: String) -> RevocationRequest? {
        engine.revocationRequest(for: report, reason: reason, actor: actor)
    }
}
