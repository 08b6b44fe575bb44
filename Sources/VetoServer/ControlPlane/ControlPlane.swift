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
    /// Routes other modules contribute (`ServiceAddOn`); they authenticate their callers themselves.
    var addOnRoutes: [@Sendable (Router<BasicRequestContext>) -> Void] = []

    /// Every route, each group given only what it uses; the unmatched-route answer last.
    func router() -> Router<BasicRequestContext> {
        // RFC 9110 §9.1: HEAD wherever GET is answered (health checkers use it).
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        let tokens = TokenVerifier(engine: engine, eventLoopGroup: eventLoopGroup)
        HealthRoutes(readiness: readiness, blocklist: blocklist, credentials: credentials, metrics: metrics).register(on: router)
        AdminAPI(
            blocklist: blocklist, tokens: tokens, credentials: credentials, metrics: metrics, logger: logger,
            maxBodyBytes: limits.maxBodyBytes, eventLoopGroup: eventLoopGroup
        ).register(on: router)
        OAuthEndpoints(
            blocklist: blocklist, tokens: tokens, credentials: credentials, metrics: metrics, logger: logger,
            refusalLog: refusalLog, maxBodyBytes: limits.maxBodyBytes, eventLoopGroup: eventLoopGroup
        ).register(on: router)
        DocumentRoutes.register(on: router)
        for add in addOnRoutes { add(router) }
        router.add(middleware: UnmatchedRouteMiddleware())
        return router
    }
}

/// `/healthz`, `/readyz` and `/metrics`.
struct HealthRoutes: Sendable {
    let readiness: @Sendable () async -> [ReadinessProblem]
    let blocklist: any Blocklist
    /// Only the admin learns the detail of a readiness problem.
    let credentials: Credentials
    let metrics: ServiceMetrics

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make(.object(JSONObject(members: [.init(name: "status", value: .string("ok"))]))) }
        router.get("/readyz") { request, _ in
            let problems = await readiness()
            // Anyone may ask whether Veto is ready; only the admin learns which issuer or store
            // address is the problem (security finding 9). The log has the detail too.
            let detailed = credentials.isAdmin(request.headers)
            var body = JSONObject()
            body["ready"] = .bool(problems.isEmpty)
            body["problems"] = .array(problems.map { .string(detailed ? $0.detail : $0.summary) })
            if let replica = Self.replica(of: blocklist) { body["replica"] = replica }
            return JSONResponse.make(.object(body), status: problems.isEmpty ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }

    /// The replica's state for `/readyz` (bounded consistency), nil without one. Not a problem when
    /// stale: checks then ask Redis, and a Redis that does not answer is a problem of its own.
    static func replica(of blocklist: any Blocklist) -> JSONValue? {
        guard let replica = (blocklist as? ReplicatedBlocklist)?.replica else { return nil }
        let snapshot = replica.snapshot
        var object = JSONObject()
        object["state"] = .string(snapshot.state)
        object["staleness_seconds"] =
            snapshot.staleness.isFinite ? .number(JSONNumber(text: String(snapshot.staleness), doubleValue: snapshot.staleness)) : .null
        object["max_staleness_seconds"] = .number(JSONNumber(text: String(snapshot.maxStaleness), doubleValue: snapshot.maxStaleness))
        object["entries"] = .number(JSONNumber(Int64(snapshot.entries)))
        object["resyncs"] = .number(JSONNumber(Int64(snapshot.resyncs)))
        return .object(object)
    }
}

/// Why `/readyz` says not ready: a summary anyone may read, and the detail for the admin and the log.
struct ReadinessProblem: Sendable {
    let summary: String
    let detail: String
}
