import CoreMetrics
import Metrics
import Prometheus
import VetoCore

/// Every metric the service exports, created once at start-up so the request path only
/// increments (no label lookups, no allocation).
final class ServiceMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    /// veto_requests_total{route, outcome}
    private let requests: [String: CoreMetrics.Counter]
    /// veto_rejections_total{reason}
    private let rejections: [ReasonCode: CoreMetrics.Counter]
    /// veto_revocations_total{kind}
    private let revocations: [String: CoreMetrics.Counter]
    let checkLatency: Metrics.Timer
    /// veto_request_duration_seconds{route="grpc_check"}: checks through the gRPC ext_authz server.
    let grpcCheckLatency: Metrics.Timer
    let storeLatency: Metrics.Timer
    let storeErrors: CoreMetrics.Counter
    let failOpen: CoreMetrics.Counter
    /// veto_connections_refused_total: connections closed at once because limits.max_connections were open.
    let connectionsRefused: CoreMetrics.Counter
    /// veto_verify_cache_total{result="hit"|"miss"}: checks answered from the verification cache or not.
    let verifyCacheHits: CoreMetrics.Counter
    let verifyCacheMisses: CoreMetrics.Counter

    static let routes = ["check", "grpc_check", "revoke", "introspect", "oauth_revoke", "admin"]
    static let outcomes = ["allowed", "denied", "unavailable", "degraded", "revoked", "error", "refused"]
    static let revocationKinds = ["logout", "admin", "subject", "oauth"]

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)
        ]
        self.factory = factory
        var requests: [String: CoreMetrics.Counter] = [:]
        for route in Self.routes {
            for outcome in Self.outcomes {
                requests["\(route)/\(outcome)"] = CoreMetrics.Counter(
                    label: "veto_requests_total", dimensions: [("route", route), ("outcome", outcome)], factory: factory)
            }
        }
        self.requests = requests
        var rejections: [ReasonCode: CoreMetrics.Counter] = [:]
        for code in ReasonCode.allCases {
            rejections[code] = CoreMetrics.Counter(label: "veto_rejections_total", dimensions: [("reason", code.rawValue)], factory: factory)
        }
        self.rejections = rejections
        var revocations: [String: CoreMetrics.Counter] = [:]
        for kind in Self.revocationKinds {
            revocations[kind] = CoreMetrics.Counter(label: "veto_revocations_total", dimensions: [("kind", kind)], factory: factory)
        }
        self.revocations = revocations
        self.checkLatency = Metrics.Timer(label: "veto_request_duration_seconds", dimensions: [("route", "check")], factory: factory)
        self.grpcCheckLatency = Metrics.Timer(label: "veto_request_duration_seconds", dimensions: [("route", "grpc_check")], factory: factory)
        self.storeLatency = Metrics.Timer(label: "veto_store_duration_seconds", factory: factory)
        self.storeErrors = CoreMetrics.Counter(label: "veto_store_errors_total", factory: factory)
        self.failOpen = CoreMetrics.Counter(label: "veto_fail_open_total", factory: factory)
        self.connectionsRefused = CoreMetrics.Counter(label: "veto_connections_refused_total", factory: factory)
        self.verifyCacheHits = CoreMetrics.Counter(label: "veto_verify_cache_total", dimensions: [("result", "hit")], factory: factory)
        self.verifyCacheMisses = CoreMetrics.Counter(label: "veto_verify_cache_total", dimensions: [("result", "miss")], factory: factory)
    }

    func request(_ route: String, _ outcome: String) {
        counter(route, outcome)?.increment()
    }

    /// veto_requests_total{route, outcome}, for callers that keep it instead of looking it up per request.
    func counter(_ route: String, _ outcome: String) -> CoreMetrics.Counter? {
        requests["\(route)/\(outcome)"]
    }

    func rejection(_ code: ReasonCode) {
        rejections[code]?.increment()
    }

    func revocation(_ kind: String) {
        revocations[kind]?.increment()
    }

    /// veto_cutoffs_written_total{kind, created_by}: cut-offs stored, by kind and by the signal that made
    /// them (`admin`, `backchannel_logout`, `ssf:<transmitter>`). Writes are rare: the counter is looked up
    /// (the registry returns the same one for the same labels) rather than made up front.
    func cutoff(_ kind: CutoffKind, createdBy: String) {
        CoreMetrics.Counter(
            label: "veto_cutoffs_written_total", dimensions: [("kind", kind.rawValue), ("created_by", createdBy)], factory: factory
        ).increment()
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
