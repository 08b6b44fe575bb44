import NIOCore

/// A command with where its reply goes and when it times out.
struct RedisPendingCommand {
    let command: RedisCommand
    let reply: RedisReplySink
    let deadline: NIODeadline
}

extension RedisConnection {
    /// The life of a connection across its channels: connecting, handshaking, ready, backing off
    /// after a failure, closed. Its mutating methods only change state and say what to do;
    /// ``RedisConnection`` does it. Generic over the channel handler so tests can drive it alone.
    ///
    /// Commands in flight are not here: they live in the handler of the channel they were written to
    /// (``RedisChannelHandler``). Here are only the commands waiting for a channel to become ready.
    ///
    /// Invariant: ``waiting`` is empty unless the state is `connecting` or `handshaking`.
    struct StateMachine<Handler: AnyObject> {
        enum State {
            /// A connect is in flight (or about to start); commands wait.
            case connecting
            /// Connected; the handler runs the handshake; commands wait.
            case handshaking(Handler)
            /// Commands go straight to the handler.
            case ready(Handler)
            /// The last attempt failed; commands fail at once with its error until the next attempt.
            case backingOff(RedisError)
            case closed
        }

        enum EnqueueAction {
            /// Hand the command to this ready channel.
            case send(Handler)
            /// The command waits for the connection to become ready.
            case wait
            /// Fail the command as overloaded (the bound on pending commands is reached).
            case refuse(RedisError)
            /// Fail the command: backing off, or closed.
            case fail(RedisError)
        }

        enum ConnectedAction {
            /// Adopt the channel: its handler starts the handshake.
            case activate(Handler)
            /// The client was closed meanwhile: close the channel.
            case close
        }

        /// After a failed attempt: fail `failed` with `error`, and try again after `delay`.
        struct Backoff {
            let error: RedisError
            let delay: TimeAmount
            let failed: [RedisPendingCommand]
            /// The first failure after a success (or ever): worth a warning rather than a debug line.
            let isFirst: Bool
            /// The handler of the channel that failed its handshake, if it got that far.
            let retired: Handler?
        }

        struct Ready {
            let handler: Handler
            /// The commands that waited, oldest first: send them now.
            let waiting: [RedisPendingCommand]
            /// The connection was failing before this success.
            let restored: Bool
        }

        enum ClosedAction {
            /// A ready channel was lost: connect again at once.
            case reconnect(retired: Handler)
            /// The handshake failed: back off.
            case backOff(Backoff)
            case none
        }

        private(set) var state = State.connecting
        /// Commands waiting for a ready channel, in the order they were sent (and so of their deadlines).
        private(set) var waiting = CircularBuffer<RedisPendingCommand>()
        private(set) var consecutiveFailures = 0
        let endpoint: RedisConfiguration.Endpoint
        let maxPendingCommands: Int
        let initialReconnectDelay: TimeAmount
        let maxReconnectDelay: TimeAmount

        init(_ configuration: RedisConfiguration) {
            self.endpoint = configuration.endpoint
            self.maxPendingCommands = configuration.maxPendingCommands
            self.initialReconnectDelay = configuration.initialReconnectDelay
            self.maxReconnectDelay = configuration.maxReconnectDelay
        }

        /// The handler of the current channel, once connected.
        var handler: Handler? {
            switch state {
            case .handshaking(let handler), .ready(let handler): handler
            case .connecting, .backingOff, .closed: nil
            }
        }

        var nextWaitingDeadline: NIODeadline? { waiting.first?.deadline }

        mutating func enqueue(_ pending: RedisPendingCommand) -> EnqueueAction {
            switch state {
            case .ready(let handler):
                return .send(handler)
            case .connecting, .handshaking:
                guard waiting.count < maxPendingCommands else {
                    return .refuse(
                        RedisError(
                            .overloaded,
                            "Redis client overloaded: \(maxPendingCommands) commands already pending on the connection to \(endpoint)"
                        ))
                }
                waiting.append(pending)
                return .wait
            case .backingOff(let error):
                return .fail(error)
            case .closed:
                return .fail(shutdownError)
            }
        }

        /// Takes out the waiting commands whose deadline is not after `now`.
        mutating func expireWaiting(now: NIODeadline) -> [RedisPendingCommand] {
            var expired = [RedisPendingCommand]()
            while let first = waiting.first, first.deadline <= now {
                expired.append(waiting.removeFirst())
            }
            return expired
        }

        /// A connect attempt starts; `false` if the client is closed (or one is already under way).
        mutating func startConnecting() -> Bool {
            switch state {
            case .connecting:
                return true
            case .backingOff:
                state = .connecting
                return true
            case .handshaking, .ready, .closed:
                return false
            }
        }

        mutating func connected(_ handler: Handler) -> ConnectedAction {
            guard case .connecting = state else { return .close }
            state = .handshaking(handler)
            return .activate(handler)
        }

        /// The connect or the handshake failed; `nil` if that no longer matters (the client is closed).
        mutating func connectFailed(_ error: RedisError) -> Backoff? {
            let retired: Handler?
            switch state {
            case .connecting: retired = nil
            case .handshaking(let handler): retired = handler
            case .ready, .backingOff, .closed: return nil
            }
            consecutiveFailures += 1
            state = .backingOff(error)
            let exponent = min(consecutiveFailures - 1, 30)
            let delay = min(initialReconnectDelay * (1 << exponent), maxReconnectDelay)
            let failed = Array(waiting)
            waiting.removeAll()
            return Backoff(error: error, delay: delay, failed: failed, isFirst: consecutiveFailures == 1, retired: retired)
        }

        mutating func handshakeSucceeded() -> Ready? {
            guard case .handshaking(let handler) = state else { return nil }
            state = .ready(handler)
            let restored = consecutiveFailures > 0
            consecutiveFailures = 0
            let queued = Array(waiting)
            waiting.removeAll()
            return Ready(handler: handler, waiting: queued, restored: restored)
        }

        /// The current channel went by itself (its handler reported it).
        mutating func channelClosed(_ error: RedisError) -> ClosedAction {
            switch state {
            case .ready(let handler):
                state = .connecting
                return .reconnect(retired: handler)
            case .handshaking:
                return connectFailed(error).map(ClosedAction.backOff) ?? .none
            case .connecting, .backingOff, .closed:
                return .none
            }
        }

        /// The client closes: close this handler's channel (if any) and fail `waiting`.
        mutating func shutdown() -> (handler: Handler?, waiting: [RedisPendingCommand])? {
            if case .closed = state { return nil }
            let handler = self.handler
            state = .closed
            let queued = Array(waiting)
            waiting.removeAll()
            return (handler, queued)
        }

        var shutdownError: RedisError {
            RedisError(.shutdown, "the Redis client for \(endpoint) is closed")
        }
    }
}
