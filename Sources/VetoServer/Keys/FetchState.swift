import NIOCore
import VetoCore

/// The bookkeeping of `IssuerKeys` behind its lock: the running fetch and its waiters, the
/// refetch window, and what the background loop does next.
struct FetchState {
    /// Someone waiting for the running fetch.
    struct Waiter {
        let promise: EventLoopPromise<KeySet>
        /// `refresh()` learns that its fetch failed; the data plane just gets the cached keys.
        let wantsFailure: Bool
    }

    /// Non-nil exactly while a fetch runs: the single-flight guard.
    var waiters: [Waiter]?
    /// When the last fetch for an unknown `kid` started, for the rate limit.
    var lastUnknownKeyIDFetch: NIODeadline?
    var hasFetched = false
    var consecutiveFailures = 0
    /// Nil until the first fetch finished: the loop then fetches at once.
    var nextRefreshDelay: Duration?
    /// The `jwks_uri` found by discovery; cleared by a failure so the next fetch discovers again.
    var discoveredJWKSURL: HTTPURL?
    /// What the last good fetch held, to log changes rather than every refresh.
    var remoteKeyIDs: [String] = []
    var skipped: [String] = []
    /// The JWKS document the current keys were built from: a refresh that brings the same bytes
    /// keeps the key set (and its generation).
    var appliedDocument: [UInt8]?
}
