import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import VetoCore

extension IssuerKeys {
    /// Runs the fetch that the caller claimed (by setting `waiters`), applies it, and answers
    /// everyone who waited for it. Never throws, so no waiter can be left behind.
    func fetchAndFinish() async -> Result<KeySet, JWKSFetchError> {
        let outcome = await fetchAndApply()
        let waiters = state.withLockedValue { state in
            defer { state.waiters = nil }
            return state.waiters ?? []
        }
        let keys = current
        for waiter in waiters {
            // Completing from this thread is safe; callbacks run on each promise's own event loop.
            switch outcome {
            case let .failure(error) where waiter.wantsFailure: waiter.promise.fail(error)
            default: waiter.promise.succeed(keys)
            }
        }
        return outcome
    }

    private func fetchAndApply() async -> Result<KeySet, JWKSFetchError> {
        guard let fetcher, let remote, let schedule else { return .success(current) }
        let knownURL = state.withLockedValue { $0.discoveredJWKSURL }
        do throws(JWKSFetchError) {
            let document = try await fetcher.get().fetch(knownJWKSURL: knownURL, logger: logger)
            let loaded = try JWKSDocument.load(
                document.body, url: document.url, defaultAlgorithm: remote.defaultAlgorithm,
                allowedAlgorithms: remote.allowedAlgorithms)
            // A document identical to the one in use keeps its key set, generation included, so
            // verified tokens stay cached; any change makes a new generation.
            let unchanged = state.withLockedValue { $0.appliedDocument == document.body }
            let keys =
                unchanged
                ? current
                : snapshot.withLockedValue { snapshot in
                    snapshot = KeySet(staticKeys + loaded.keys, generation: snapshot.generation &+ 1)
                    return snapshot
                }
            let delay = schedule.delay(afterSuccessWithMaxAge: document.maxAge)
            let (previousKeyIDs, previousSkipped) = state.withLockedValue { state in
                defer {
                    state.hasFetched = true
                    state.consecutiveFailures = 0
                    state.nextRefreshDelay = delay
                    state.discoveredJWKSURL = document.url
                    state.remoteKeyIDs = loaded.keys.map { $0.keyID ?? "" }
                    state.skipped = loaded.skipped
                    state.appliedDocument = document.body
                }
                return (state.remoteKeyIDs, state.skipped)
            }
            metrics.fetchSucceeded.increment()
            metrics.keys.record(loaded.keys.count)
            logChanges(loaded, url: document.url, previousKeyIDs: previousKeyIDs, previousSkipped: previousSkipped, delay: delay)
            return .success(keys)
        } catch {
            let (failures, delay) = state.withLockedValue { state in
                state.consecutiveFailures += 1
                state.nextRefreshDelay = schedule.delay(afterFailures: state.consecutiveFailures)
                // The jwks_uri may have moved: discover it again next time.
                state.discoveredJWKSURL = nil
                return (state.consecutiveFailures, state.nextRefreshDelay!)
            }
            if Task.isCancelled {
                logger.debug("JWKS fetch cancelled", metadata: ["veto.url": "\(error.url)"])
            } else {
                metrics.fetchFailed.increment()
                logger.warning(
                    "JWKS fetch failed; keeping the last good keys",
                    metadata: [
                        "veto.error": "\(error.code)", "veto.url": "\(error.url)", "veto.reason": "\(error.message)",
                        "veto.failures": "\(failures)", "veto.retry_in": "\(delay)"
                    ])
            }
            return .failure(error)
        }
    }

    private func logChanges(_ loaded: JWKSDocument.Loaded, url: HTTPURL, previousKeyIDs: [String], previousSkipped: [String], delay: Duration) {
        let keyIDs = loaded.keys.map { $0.keyID ?? "" }
        if loaded.skipped != previousSkipped, !loaded.skipped.isEmpty {
            logger.warning("JWKS entries skipped", metadata: ["veto.url": "\(url)", "veto.skipped": "\(loaded.skipped.joined(separator: "; "))"])
        }
        if loaded.keys.isEmpty {
            // Logged on every fetch: tokens of this issuer are refused until this changes.
            logger.error("the JWKS has no usable key; only configured keys remain", metadata: ["veto.url": "\(url)"])
        } else if keyIDs != previousKeyIDs {
            let added = keyIDs.filter { !previousKeyIDs.contains($0) }
            let removed = previousKeyIDs.filter { !keyIDs.contains($0) }
            logger.info(
                "JWKS keys changed",
                metadata: [
                    "veto.url": "\(url)", "veto.kids": "\(keyIDs)", "veto.added": "\(added)", "veto.removed": "\(removed)"
                ])
        } else {
            logger.debug("JWKS refreshed, unchanged", metadata: ["veto.url": "\(url)", "veto.next_in": "\(delay)"])
        }
    }
}
