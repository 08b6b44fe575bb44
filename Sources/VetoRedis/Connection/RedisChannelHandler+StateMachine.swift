import NIOCore

extension RedisChannelHandler {
    /// The limits and names a handler works with; taken from the connection's configuration.
    struct Settings: Sendable {
        var endpoint: RedisConfiguration.Endpoint
        var commandTimeout: TimeAmount
        var maxPendingCommands: Int
        var maxReplyBytes: Int
        /// A reply with no command waiting is a Pub/Sub message (a Sentinel subscription), not a
        /// protocol violation.
        var acceptsPushes: Bool
        /// For TLS errors: what is wrong with the server's certificate.
        var tls: RedisTLSContext?

        init(_ configuration: RedisConfiguration, acceptsPushes: Bool, tls: RedisTLSContext?) {
            self.endpoint = configuration.endpoint
            self.commandTimeout = configuration.commandTimeout
            self.maxPendingCommands = configuration.maxPendingCommands
            self.maxReplyBytes = configuration.maxReplyBytes
            self.acceptsPushes = acceptsPushes
            self.tls = tls
        }
    }

    /// Everything one channel's handler decides: the handshake, which command a reply answers,
    /// timeouts, and what fails when the channel goes. Its mutating methods only change state and say
    /// what to do; ``RedisChannelHandler`` does it (writes, completes sinks, closes the channel).
    ///
    /// Invariant: ``inFlight`` is empty unless the state is `handshaking` or `active`, and every sink
    /// taken out of it is completed exactly once, by the action that took it out.
    struct StateMachine {
        enum State {
            /// Added to a channel that its connection has not adopted yet: happy eyeballs may still
            /// close it. Nothing is written, and nothing is reported to the connection.
            case idle
            /// Adopted: the handshake's commands are in flight; no other command is written.
            case handshaking(RedisHandshake)
            /// Commands are written and answered in order.
            case active
            /// Done: every command that was in flight has failed with this error.
            case closed(RedisError)
        }

        /// What to do when the channel stops: fail `failing` with `error`; tell the connection when
        /// `report` (never for a close the connection asked for); close the channel when `closeChannel`.
        struct Failure {
            let error: RedisError
            let failing: [RedisReplySink]
            let report: Bool
            let closeChannel: Bool
        }

        enum ReceiveAction {
            /// Complete the command's sink with the reply.
            case deliver(RedisReplySink, Result<RedisValue, RedisError>)
            /// The reply of a command that timed out: dropped.
            case drop
            /// A handshake step succeeded and more are in flight.
            case handshakeStep
            /// The last handshake step succeeded: tell the connection it is ready.
            case ready
            /// A Pub/Sub message for the connection.
            case push(RedisValue)
            case fail(Failure)
            /// The channel is closed (or closing): stop reading.
            case ignore
        }

        enum SendAction {
            /// Write the command to the channel and flush it soon.
            case write
            /// The queue is full: fail the command as overloaded.
            case refuse(RedisError)
            /// The channel is not usable: fail the command.
            case fail(RedisError)
        }

        private(set) var state = State.idle
        private(set) var inFlight = RedisInFlightQueue()
        let settings: Settings

        init(settings: Settings) {
            self.settings = settings
        }

        var isOpen: Bool {
            switch state {
            case .handshaking, .active: true
            case .idle, .closed: false
            }
        }

        // MARK: Connection side

        enum ActivateAction {
            /// Write and flush these handshake commands.
            case writeHandshake([RedisCommand])
            /// The channel went before it was adopted: tell the connection.
            case reportClosed(RedisError)
        }

        /// The connection adopts this channel: start the handshake.
        mutating func activate(_ handshake: RedisHandshake, now: NIODeadline) -> ActivateAction {
            switch state {
            case .idle:
                let deadline = now + handshake.timeout
                for (step, command) in handshake.commands.enumerated() {
                    inFlight.append(.init(destination: .handshake(step: step), name: command.name, deadline: deadline))
                }
                state = .handshaking(handshake)
                return .writeHandshake(handshake.commands)
            case .closed(let error):
                return .reportClosed(error)
            case .handshaking, .active:
                preconditionFailure("a Redis channel adopted twice")
            }
        }

        mutating func send(name: String, reply: RedisReplySink, deadline: NIODeadline) -> SendAction {
            switch state {
            case .active:
                guard inFlight.count < settings.maxPendingCommands else { return .refuse(overloaded) }
                inFlight.append(.init(destination: .command(reply), name: name, deadline: deadline))
                return .write
            case .closed(let error):
                return .fail(error)
            case .idle, .handshaking:
                return .fail(RedisError(.unavailable, "the connection to Redis at \(settings.endpoint) is not ready"))
            }
        }

        /// The connection is done with the channel (the client closes): fail what is in flight with
        /// `error`, without reporting back.
        mutating func close(_ error: RedisError) -> Failure? {
            switch state {
            case .idle, .handshaking, .active:
                state = .closed(error)
                return Failure(error: error, failing: inFlight.removeAll(), report: false, closeChannel: true)
            case .closed:
                return nil
            }
        }

        // MARK: Channel side

        /// Everything written so far has been flushed to the socket.
        mutating func flushed() {
            inFlight.markFlushed()
        }

        /// Bytes arrived. Before the handshake Redis never speaks, and bytes now would misalign every
        /// reply after them: the channel fails.
        mutating func dataArrived() -> Failure? {
            guard case .idle = state else { return nil }
            let error = RedisError(.protocolViolation, "Redis at \(settings.endpoint) sent data before any command")
            state = .closed(error)
            return Failure(error: error, failing: [], report: false, closeChannel: true)
        }

        mutating func received(_ reply: Result<RedisValue, RedisError>) -> ReceiveAction {
            switch state {
            case .idle, .closed:
                return .ignore
            case .handshaking(let handshake):
                guard let entry = inFlight.popFirst(), case .handshake(let step) = entry.destination else {
                    return .fail(failOpen(unsolicited))
                }
                switch reply {
                case .failure(let error):
                    return .fail(failOpen(handshake.failure(ofStep: step, error)))
                case .success(let value):
                    if let problem = handshake.problem(withReply: value, ofStep: step) { return .fail(failOpen(problem)) }
                    guard step == handshake.steps.count - 1 else { return .handshakeStep }
                    state = .active
                    return .ready
                }
            case .active:
                guard let entry = inFlight.popFirst() else {
                    if settings.acceptsPushes, case .success(let value) = reply { return .push(value) }
                    return .fail(failOpen(unsolicited))
                }
                switch entry.destination {
                case .command(let sink): return .deliver(sink, reply)
                case .timedOut: return .drop
                case .handshake: return .fail(failOpen(unsolicited))  // unreachable: the handshake is over
                }
            }
        }

        /// The timer went off at `now`: the commands whose time is up, each with its error, and the
        /// failure of the whole channel if the handshake ran out of time or the server is stuck.
        mutating func deadlinePassed(now: NIODeadline) -> (expired: [(RedisReplySink, RedisError)], failure: Failure?) {
            switch state {
            case .handshaking(let handshake):
                guard let first = inFlight.first, first.deadline <= now else { return ([], nil) }
                return ([], failOpen(handshake.timeoutError))
            case .active:
                let milliseconds = settings.commandTimeout.nanoseconds / 1_000_000
                let expired = inFlight.expire(now: now).map { entry in
                    (entry.reply, RedisError(.timeout, "command \(entry.name) timed out after \(milliseconds) ms at \(settings.endpoint)"))
                }
                // A reply overdue by a second whole timeout means the server or the path to it is stuck:
                // start over on a fresh connection rather than let dead slots fill the queue.
                guard inFlight.isStuck(now: now, grace: settings.commandTimeout) else { return (expired, nil) }
                return (expired, failOpen(RedisError(.timeout, "Redis at \(settings.endpoint) stopped answering")))
            case .idle, .closed:
                return ([], nil)
            }
        }

        /// When ``deadlinePassed(now:)`` has something to do next.
        var nextDeadline: NIODeadline? {
            switch state {
            case .handshaking: inFlight.first?.deadline
            case .active: inFlight.nextDeadline(grace: settings.commandTimeout)
            case .idle, .closed: nil
            }
        }

        /// The channel went inactive (or the handler was removed).
        mutating func channelInactive() -> Failure? {
            let lost = RedisError(.unavailable, "connection to Redis at \(settings.endpoint) was lost")
            switch state {
            case .idle:
                state = .closed(lost)  // reported if the connection adopts the channel after all
                return nil
            case .handshaking, .active:
                state = .closed(lost)
                return Failure(error: lost, failing: inFlight.removeAll(), report: true, closeChannel: false)
            case .closed:
                return nil
            }
        }

        /// This side gives up on the channel: an unreadable reply, a TLS or socket error.
        mutating func failure(_ error: RedisError) -> Failure? {
            switch state {
            case .idle:
                state = .closed(error)
                return Failure(error: error, failing: [], report: false, closeChannel: true)
            case .handshaking, .active:
                return failOpen(error)
            case .closed:
                return nil
            }
        }

        private mutating func failOpen(_ error: RedisError) -> Failure {
            state = .closed(error)
            return Failure(error: error, failing: inFlight.removeAll(), report: true, closeChannel: true)
        }

        private var unsolicited: RedisError {
            RedisError(.protocolViolation, "Redis at \(settings.endpoint) sent a reply nobody asked for")
        }

        private var overloaded: RedisError {
            RedisError(
                .overloaded,
                "Redis client overloaded: \(settings.maxPendingCommands) commands already pending on the connection to \(settings.endpoint)"
            )
        }
    }
}
