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
    let readiness: @Sendable () async -> [String]

    func router() -> Router<BasicRequestContext> {
        // RFC 9110 §9.1: HEAD wherever GET is answered (health checkers use it).
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.get("/healthz") { _, _ in JSONResponse.make(.object(JSONObject(members: [.init(name: "status", value: .string("ok"))]))) }
        router.get("/readyz") { _, _ in
            let problems = await readiness()
            var body = JSONObject()
            body["ready"] = .bool(problems.isEmpty)
            body["problems"] = .array(problems.map(JSONValue.string))
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
    func validate(_ token: String, on eventLoop: any EventLoop) async throws -> ValidationReport {
        try await engine.validate(Array(token.utf8), on: eventLoop).get()
    }

    /// Maps a store failure to 503, keeping the message free of secrets (the store's errors are).
    func storeFailure(_ error: any Error) -> APIError {
        metrics.storeErrors.increment()
        logger.error("store error: \(error)")
        return APIError(.serviceUnavailable, ReasonCode.storeUnavailable.rawValue, "The blocklist store is unavailable: \(error)",
                        headers: [.retryAfter: "1"])
    }
}
