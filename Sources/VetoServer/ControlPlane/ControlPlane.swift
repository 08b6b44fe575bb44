import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VetoCore
import VetoStore

/// The control plane on Hummingbird: admin API, OAuth endpoints, health, readiness, metrics,
/// the OpenAPI document and the decoder page.
struct ControlPlane: Sendable {
    let engine: CheckEngine
    let blocklist: any Blocklist
    let credentials: Credentials
    let metrics: ServiceMetrics
    let limits: Limits
    let logger: Logger
    /// Loops for store calls made from Hummingbird handlers (the request context has no channel).
    let eventLoopGroup: any EventLoopGroup
    let readiness: @Sendable () async -> [ReadinessProblem]
    /// The data plane's limit on refusal log lines, shared so introspection floods are bounded too.
    let refusalLog: RefusalLog

    func router() -> Router<BasicRequestContext> {
        // RFC 9110 §9.1: HEAD wherever GET is answered (health checkers use it).
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.get("/healthz") { _, _ in JSONResponse.make(.object(JSONObject(members: [.init(name: "status", value: .string("ok"))]))) }
        router.get("/readyz") { request, _ in
            let problems = await readiness()
            // Anyone may ask whether Veto is ready; only the admin learns which issuer or store
            // address is the problem (security finding 9). The log has the detail too.
            let detailed = credentials.isAdmin(request.headers)
            var body = JSONObject()
            body["ready"] = .bool(problems.isEmpty)
            body["problems"] = .array(problems.map { .string(detailed ? $0.detail : $0.summary) })
            return JSONResponse.make(.object(body), status: problems.isEmpty ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        AdminAPI(plane: self).register(on: router)
        OAuthEndpoints(plane: self).register(on: router)
        DocumentRoutes.register(on: router)
        router.add(middleware: UnmatchedRouteMiddleware())
        return router
    }

    /// Validates a token presented in a body (admin revoke-by-token, OAuth endpoints).
    func validate(_ token: String, on eventLoop: any EventLoop) async throws -> CheckEngine.Report {
        try await engine.validate(Array(token.utf8), on: eventLoop).get()
    }

    /// Maps a store failure to 503. The store's own words (addresses, file paths) go to the log only.
    func storeFailure(_ error: any Error) -> APIError {
        metrics.storeErrors.increment()
        logger.error("store error: \(error)")
        return APIError(.serviceUnavailable, ReasonCode.storeUnavailable.rawValue,
                        "The blocklist store is unavailable, so nothing was read or written; retry shortly.",
                        headers: [.retryAfter: "1"])
    }
}

/// Why `/readyz` says not ready: a summary anyone may read, and the detail for the admin and the log.
struct ReadinessProblem: Sendable {
    let summary: String
    let detail: String
}
