/// The RFC 8936 poll loop of one receiver, as a struct: each method takes what happened and returns
/// what to do next; `PollService` only performs the actions.
///
/// Acknowledgements are sent only for SETs whose effects were stored; a refused SET goes in `setErrs`;
/// a SET the store could not take is neither, so the transmitter delivers it again. Acks and errors
/// sent in a request that failed are sent again in the next one (the transmitter may not have seen
/// them; acknowledging twice is harmless).
package struct PollStateMachine: Sendable {
    package enum Action: Sendable, Equatable {
        /// Send this request now.
        case poll(PollRequest)
        /// Check these SETs, then call `processed`.
        case process([PolledSET])
        /// Sleep, then call `waited`.
        case wait(Duration)
    }

    /// What checking one polled SET came to.
    package enum Result: Sendable, Equatable {
        case stored
        case refused(PollRequest.SETError)
        /// The store failed: no ack, no error; the transmitter redelivers it.
        case notStored
    }

    private enum State: Sendable, Equatable {
        case idle
        /// This request is out.
        case polling(PollRequest)
        case processing(moreAvailable: Bool)
        case waiting
    }

    package let maxEvents: Int
    package let interval: Duration
    package let maxBackoff: Duration
    private var state = State.idle
    private var ack: [String] = []
    private var setErrs: [(jti: String, error: PollRequest.SETError)] = []
    /// Consecutive failed requests, for the backoff.
    package private(set) var failures = 0
    /// Consecutive rounds in which the store failed, for the backoff (kept apart: the transmitter
    /// answering does not mean the store is back).
    package private(set) var storeFailures = 0

    package init(maxEvents: Int = 100, interval: Duration, maxBackoff: Duration = .seconds(30)) {
        self.maxEvents = maxEvents
        self.interval = interval
        self.maxBackoff = maxBackoff
    }

    package mutating func start() -> Action {
        precondition(state == .idle, "start once")
        return pollNow()
    }

    /// The transmitter answered 200 with `response`: the acks and errors sent are delivered.
    package mutating func received(_ response: PollResponse) -> Action {
        guard case .polling = state else { preconditionFailure("an answer without a request") }
        failures = 0
        if response.sets.isEmpty {
            // Nothing new: wait, unless the transmitter says more is there.
            return response.moreAvailable ? pollNow() : waitFor(interval)
        }
        state = .processing(moreAvailable: response.moreAvailable)
        return .process(response.sets)
    }

    /// The request failed (unreachable, an error status, an unreadable answer): what it carried is
    /// sent again, after a backoff.
    package mutating func failed() -> Action {
        guard case let .polling(sent) = state else { preconditionFailure("a failure without a request") }
        ack = sent.ack + ack
        setErrs = sent.setErrs + setErrs
        failures += 1
        return waitFor(Self.backoff(failures, cap: maxBackoff))
    }

    /// The SETs of the last answer were checked.
    package mutating func processed(_ results: [(jti: String, result: Result)]) -> Action {
        guard case let .processing(moreAvailable) = state else { preconditionFailure("results without SETs") }
        var storeFailed = false
        for (jti, result) in results {
            switch result {
            case .stored: ack.append(jti)
            case let .refused(error): setErrs.append((jti, error))
            case .notStored: storeFailed = true
            }
        }
        if storeFailed {
            // The store is down: polling at once would fetch the same SETs again. The acks wait too.
            storeFailures += 1
            return waitFor(Self.backoff(storeFailures, cap: maxBackoff))
        }
        storeFailures = 0
        // Acknowledge at once (and take what came meanwhile): the next empty answer starts the wait.
        return moreAvailable || !ack.isEmpty || !setErrs.isEmpty ? pollNow() : waitFor(interval)
    }

    package mutating func waited() -> Action {
        guard state == .waiting else { preconditionFailure("waited without a wait") }
        return pollNow()
    }

    /// 1 s, 2 s, 4 s, … after the 1st, 2nd, 3rd … consecutive failure, at most `cap`.
    package static func backoff(_ failures: Int, cap: Duration) -> Duration {
        min(.seconds(1 << min(max(failures - 1, 0), 6)), cap)
    }

    private mutating func pollNow() -> Action {
        let request = PollRequest(maxEvents: maxEvents, returnImmediately: true, ack: ack, setErrs: setErrs)
        state = .polling(request)
        ack = []
        setErrs = []
        return .poll(request)
    }

    private mutating func waitFor(_ duration: Duration) -> Action {
        state = .waiting
        return .wait(duration)
    }
}
