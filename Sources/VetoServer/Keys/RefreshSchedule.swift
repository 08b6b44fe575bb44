/// When the background loop fetches an issuer's keys next.
struct RefreshSchedule: Sendable {
    let refreshInterval: Duration
    let minimumRefreshInterval: Duration
    let retryInterval: Duration

    init(_ configuration: RemoteKeyConfiguration) {
        refreshInterval = max(configuration.refreshInterval, .milliseconds(1))
        minimumRefreshInterval = configuration.minimumRefreshInterval
        retryInterval = max(configuration.retryInterval, .milliseconds(1))
    }

    /// After a good fetch: the response's `max-age`, no shorter than `minimumRefreshInterval`
    /// and no longer than `refreshInterval`; `refreshInterval` without one.
    func delay(afterSuccessWithMaxAge maxAge: Duration?) -> Duration {
        guard let maxAge else { return refreshInterval }
        return min(max(maxAge, minimumRefreshInterval), refreshInterval)
    }

    /// After the `failures`-th failure in a row: `retryInterval`, doubling, capped at `refreshInterval`.
    func delay(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures - 1, 0), 20)
        return min(retryInterval * (1 << doublings), refreshInterval)
    }
}
