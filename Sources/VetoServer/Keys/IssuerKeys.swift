import AsyncHTTPClient
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import VetoCore

/// The verification keys of one issuer: the configured ones plus, optionally, a JWKS fetched
/// over HTTP and kept fresh.
///
/// Reading `current` costs a lock and an array retain; a fetch builds a new `KeySet` and swaps it
/// in whole. At most one fetch runs at a time: whoever needs one while it runs waits for it.
/// A failed fetch keeps the last good keys. A good fetch replaces the remote keys completely, so
/// a key removed from the JWKS stops verifying once the refresh has run.
///
/// - Important: Keys come only from the configured URL or the issuer's discovery document.
///   Nothing here takes a URL from a token (`jku`, `x5u`).
package final class IssuerKeys: Sendable {
    package let issuer: String
    /// Nil when the issuer has configured keys only.
    package let remote: RemoteKeyConfiguration?

    let staticKeys: [VerificationKey]
    let snapshot: NIOLockedValueBox<KeySet>
    let state: NIOLockedValueBox<FetchState>
    /// Nil without `remote`; a failure when the configured location cannot work, so every fetch reports it.
    let fetcher: Result<JWKSFetcher, JWKSFetchError>?
    let schedule: RefreshSchedule?
    let metrics: JWKSMetrics
    let logger: Logger
    /// Where `refresh()` gets a promise when it joins a running fetch.
    let eventLoopGroup: any EventLoopGroup

    /// - Parameters:
    ///   - staticKeys: keys from `--key` files; they are always part of `current`.
    ///   - remote: where to fetch a JWKS; nil for configured keys only. Nothing is fetched until
    ///     `refresh()` or `run()` is called.
    ///   - httpClient: shared by all issuers; its owner shuts it down after `run()` has ended.
    ///   - metricsFactory: `MetricsSystem.factory` in production; a test factory in tests.
    package init(
        issuer: String,
        staticKeys: [VerificationKey],
        remote: RemoteKeyConfiguration?,
        httpClient: HTTPClient,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.issuer = issuer
        self.remote = remote
        self.staticKeys = staticKeys
        self.snapshot = NIOLockedValueBox(KeySet(staticKeys))
        self.state = NIOLockedValueBox(FetchState())
        self.fetcher = remote.map { configuration in
            Result { () throws(JWKSFetchError) in
                try configuration.validate(issuer: issuer)
                return JWKSFetcher(
                    client: httpClient, issuer: issuer,
                    location: try JWKSLocation(issuer: issuer, configuration: configuration),
                    timeout: configuration.fetchTimeout, maxDocumentSize: configuration.maxDocumentSize,
                    allowInsecure: configuration.allowInsecure)
            }
        }
        self.schedule = remote.map(RefreshSchedule.init)
        self.metrics = JWKSMetrics(issuer: issuer, factory: metricsFactory)
        var logger = logger
        logger[metadataKey: "veto.issuer"] = "\(issuer)"
        self.logger = logger
        self.eventLoopGroup = httpClient.eventLoopGroup
    }

    /// The keys to verify with now. Cheap: meant for every request.
    package var current: KeySet {
        snapshot.withLockedValue { $0 }
    }

    /// True when there are configured keys, or a JWKS has been fetched at least once (even an
    /// empty one: the issuer then has no valid keys, which is an answer, not an outage).
    package var isReady: Bool {
        !staticKeys.isEmpty || state.withLockedValue { $0.hasFetched }
    }

    /// How long `run()` waits before its next fetch: from `max-age` or `refreshInterval` after a
    /// good fetch, the retry backoff after a failure; nil before the first fetch or without `remote`.
    package var nextRefreshDelay: Duration? {
        state.withLockedValue { $0.nextRefreshDelay }
    }

    /// Fetches the JWKS now, or waits for the fetch already running. Without `remote` it does nothing.
    ///
    /// - Throws: `JWKSFetchError` when the fetch failed; `current` then still holds the last good keys.
    /// - Note: Cancelling the task cancels a fetch this call started; a call that joined a
    ///   running fetch still waits for it, at most `fetchTimeout`.
    package func refresh() async throws(JWKSFetchError) {
        guard fetcher != nil else { return }
        let joined: EventLoopFuture<KeySet>? = state.withLockedValue { state in
            guard state.waiters != nil else {
                state.waiters = []
                return nil
            }
            let promise = eventLoopGroup.any().makePromise(of: KeySet.self)
            state.waiters!.append(FetchState.Waiter(promise: promise, wantsFailure: true))
            return promise.futureResult
        }
        if let joined {
            do {
                _ = try await joined.get()
                return
            } catch let error as JWKSFetchError {
                throw error
            } catch {
                throw JWKSFetchError(.transport, url: issuer, "the fetch failed: \(error)")
            }
        }
        _ = try await fetchAndFinish().get()
    }

    /// Refreshes until the task is cancelled: at once if nothing was fetched yet, then after
    /// `nextRefreshDelay` each time. Failures are logged and counted by the fetch itself.
    package func run() async {
        guard fetcher != nil else { return }
        while !Task.isCancelled {
            if let delay = nextRefreshDelay {
                do { try await Task.sleep(for: delay) } catch { return }
            }
            try? await refresh()
        }
    }

    /// The keys to retry with after `current` answered `.unknownKeyID`: the result of one
    /// refetch, or `current` at once when the refetch window is closed.
    ///
    /// Concurrent callers share one fetch, and one fetch per `minimumRefetchInterval` at most is
    /// started here, so random kids cannot turn into a flood of requests. A failed fetch also
    /// answers with `current`: the caller then reports the unknown kid.
    ///
    /// Made for channel handlers: no Task per call, only one per fetch; the future completes on `eventLoop`.
    package func keysAfterUnknownKeyID(on eventLoop: any EventLoop) -> EventLoopFuture<KeySet> {
        guard let remote, fetcher != nil else { return eventLoop.makeSucceededFuture(current) }
        let now = NIODeadline.now()
        let window = TimeAmount(remote.minimumRefetchInterval)
        enum Decision {
            case cached
            case wait(EventLoopFuture<KeySet>)
            case lead(EventLoopFuture<KeySet>)
        }
        let decision = state.withLockedValue { state -> Decision in
            if state.waiters != nil {
                let promise = eventLoop.makePromise(of: KeySet.self)
                state.waiters!.append(FetchState.Waiter(promise: promise, wantsFailure: false))
                return .wait(promise.futureResult)
            }
            if let last = state.lastUnknownKeyIDFetch, now < last + window {
                return .cached
            }
            state.lastUnknownKeyIDFetch = now
            let promise = eventLoop.makePromise(of: KeySet.self)
            state.waiters = [FetchState.Waiter(promise: promise, wantsFailure: false)]
            return .lead(promise.futureResult)
        }
        switch decision {
        case .cached:
            metrics.refetchLimited.increment()
            logger.debug("unknown kid: refetch skipped, the last one was less than \(remote.minimumRefetchInterval) ago")
            return eventLoop.makeSucceededFuture(current)
        case let .wait(future):
            return future
        case let .lead(future):
            logger.debug("unknown kid: refetching the JWKS")
            Task { _ = await self.fetchAndFinish() }
            return future
        }
    }
}
