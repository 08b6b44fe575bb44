import Metrics

/// The metrics of one issuer's remote keys, created once so the refresh path only increments.
struct JWKSMetrics: Sendable {
    /// `veto_jwks_fetches_total{issuer,outcome="ok"}`.
    let fetchSucceeded: Counter
    /// `veto_jwks_fetches_total{issuer,outcome="error"}`.
    let fetchFailed: Counter
    /// `veto_jwks_refetches_limited_total{issuer}`: unknown-kid lookups answered from the cache
    /// because the last refetch was too recent. A steady rise means someone is sending random kids.
    let refetchLimited: Counter
    /// `veto_jwks_keys{issuer}`: the usable keys in the last good JWKS.
    let keys: Gauge

    init(issuer: String, factory: any MetricsFactory) {
        fetchSucceeded = Counter(label: "veto_jwks_fetches_total", dimensions: [("issuer", issuer), ("outcome", "ok")], factory: factory)
        fetchFailed = Counter(label: "veto_jwks_fetches_total", dimensions: [("issuer", issuer), ("outcome", "error")], factory: factory)
        refetchLimited = Counter(label: "veto_jwks_refetches_limited_total", dimensions: [("issuer", issuer)], factory: factory)
        keys = Gauge(label: "veto_jwks_keys", dimensions: [("issuer", issuer)], factory: factory)
    }
}
