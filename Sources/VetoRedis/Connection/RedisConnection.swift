import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// What a connection tells its owner, on its event loop. Sentinel and Cluster use these to notice a
/// lost master; a Sentinel subscription receives its messages through ``onPush``.
struct RedisConnectionHooks: Sendable {
    /// The handshake finished (after every reconnect, too).
    var onReady: (@Sendable () -> Void)?
    /// A connect or handshake failed, or a ready connection was lost.
    var onFailure: (@Sendable (RedisError) -> Void)?
    /// A reply that arrived with no command waiting: a Pub/Sub message. Without this hook such a
    /// reply is a protocol violation.
    var onPush: (@Sendable (RedisValue) -> Void)?

    init(onReady: (@Sendable () -> Void)? = nil, onFailure: (@Sendable (RedisError) -> Void)? = nil,
         onPush: (@Sendable (RedisValue) -> Void)? = nil) {
        self.onReady = onReady
        self.onFailure = onFailure
        self.onPush = onPush
    }
}

/// One Redis connection, owned by one event loop: it connects, handshakes, pipelines commands and
/// reconnects with capped exponential backoff for as long as the client lives.
///
/// Pipelining: a command is written at once but flushed by a task queued on the loop, so every command
/// issued in the same loop tick (typically from one batch of channel reads) leaves in one `writev`,
/// and the replies come back in as few reads.
///
/// - `@unchecked Sendable`: every mutable field is read and written only on `eventLoop`. Entry points
///   that may be called elsewhere (`send`, `close`, `statistics`) hop there first.
final class RedisConnection: @unchecked Sendable {
    let eventLoop: any EventLoop
    let configuration: RedisConfiguration
    private let logger: Logger
    /// `nil` for plain TCP; a failure (unreadable certificate files) fails every connect with it.
    private let tls: Result<RedisTLSContext, RedisError>?
    private let hooks: RedisConnectionHooks

    private enum State {
        /// TCP connect in flight; commands wait.
        case connecting
        /// Connected; AUTH/SELECT/PING in flight; commands wait.
        case handshaking
        case ready
        /// The last connect failed; commands fail at once with its error until the next attempt.
        case backingOff(RedisError)
        case closed
    }

    /// A command waiting for the connection to become ready.
    private struct Waiting {
        let command: RedisCommand
        let reply: RedisReplySink
        let deadline: NIODeadline
    }

    /// A command written to the channel; replies arrive in this order.
    private struct InFlight {
        /// `nil` once the command timed out: its reply, if it ever comes, is dropped.
        var reply: RedisReplySink?
        let name: String
        let deadline: NIODeadline
    }

    private var state = State.connecting
    private var channel: (any Channel)?
    private var waiting = CircularBuffer<Waiting>()
    private var inFlight = CircularBuffer<InFlight>()
    /// Leading `inFlight` entries that already timed out.
    private var timedOutInFlight = 0
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var reconnect: Scheduled<Void>?
    private var flushQueued = false
    private var consecutiveFailures = 0
    private var stats = RedisClientStatistics()

    init(eventLoop: any EventLoop, configuration: RedisConfiguration, logger: Logger,
         tls: Result<RedisTLSContext, RedisError>? = nil, hooks: RedisConnectionHooks = RedisConnectionHooks()) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.tls = tls
        self.hooks = hooks
    }

    // MARK: Entry points (any thread)

    /// Connects in a later loop tick, never inside the caller: owners create connections while holding
    /// their own locks, and a failing connect calls back into them.
    func start() {
        eventLoop.execute { self.connect() }
    }

    /// Queues `commands` in order; their futures complete on `eventLoop`.
    func send(_ commands: [RedisCommand]) -> [EventLoopFuture<RedisValue>] {
        let promises = commands.map { _ in eventLoop.makePromise(of: RedisValue.self) }
        let sinks = promises.map { RedisReplySink.promise($0) }
        onLoop { $0.enqueue(commands, sinks) }
        return promises.map(\.futureResult)
    }

    /// Queues `commands` in order; `then` gets every reply, in order, once the last one is in (or
    /// failed), on `eventLoop`.
    func send(_ commands: [RedisCommand], then: @escaping @Sendable ([Result<RedisValue, any Error>]) -> Void) {
        let batch = RedisReplyBatch(count: commands.count, then: then)
        let sinks = commands.indices.map { RedisReplySink.batch(batch, slot: $0) }
        onLoop { $0.enqueue(commands, sinks) }
    }

    func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { self.shutdown() }
    }

    func statistics() -> EventLoopFuture<RedisClientStatistics> {
        eventLoop.submit { self.stats }
    }

    private func onLoop(_ body: @escaping @Sendable (RedisConnection) -> Void) {
        if eventLoop.inEventLoop {
            body(self)
        } else {
            eventLoop.execute { body(self) }
        }
    }

    // MARK: Commands

    private func enqueue(_ commands: [RedisCommand], _ sinks: [RedisReplySink]) {
        switch state {
        case .closed:
            let error = RedisError(.shutdown, "the Redis client for \(configuration.endpoint) is closed")
            for sink in sinks { sink.fail(error) }
        case .backingOff(let error):
            for sink in sinks { sink.fail(error) }
        case .connecting, .handshaking:
            let deadline = NIODeadline.now() + configuration.commandTimeout
            var refused = [RedisReplySink]()
            for (command, sink) in zip(commands, sinks) {
                if hasRoom {
                    waiting.append(Waiting(command: command, reply: sink, deadline: deadline))
                } else {
                    refused.append(sink)
                }
            }
            armTimer()
            failOverloaded(refused)
        case .ready:
            let deadline = NIODeadline.now() + configuration.commandTimeout
            var refused = [RedisReplySink]()
            for (command, sink) in zip(commands, sinks) {
                if hasRoom {
                    write(command, reply: sink, deadline: deadline)
                    stats.commandsSent += 1
                } else {
                    refused.append(sink)
                }
            }
            armTimer()
            failOverloaded(refused)
        }
    }

    private var hasRoom: Bool {
        waiting.count + inFlight.count < configuration.maxPendingCommands
    }

    private func failOverloaded(_ sinks: [RedisReplySink]) {
        guard !sinks.isEmpty else { return }
        stats.overloads += sinks.count
        let error = RedisError(
            .overloaded,
            "Redis client overloaded: \(configuration.maxPendingCommands) commands already pending on the connection to \(configuration.endpoint)"
        )
        for sink in sinks { sink.fail(error) }
    }

    private func write(_ command: RedisCommand, reply: RedisReplySink, deadline: NIODeadline) {
        guard let channel else { preconditionFailure("write without a channel") }
        inFlight.append(InFlight(reply: reply, name: command.name, deadline: deadline))
        channel.write(command.encoded, promise: nil)
        queueFlush()
    }

    /// One flush per loop tick, however many commands were written in it.
    private func queueFlush() {
        guard !flushQueued else { return }
        flushQueued = true
        eventLoop.execute {
            self.flushQueued = false
            guard let channel = self.channel else { return }
            channel.flush()
            self.stats.writeBatches += 1
        }
    }

    // MARK: Replies (called by RedisChannelHandler on the loop)

    func readEvent(from source: any Channel) {
        guard source === channel else { return }
        stats.readEvents += 1
    }

    func received(_ reply: Result<RedisValue, RedisError>, from source: any Channel) {
        guard source === channel else { return }
        guard !inFlight.isEmpty else {
            if let onPush = hooks.onPush, case .success(let value) = reply {
                onPush(value)
                return
            }
            abandonChannel(RedisError(.protocolViolation, "Redis at \(configuration.endpoint) sent a reply nobody asked for"))
            return
        }
        stats.replies += 1
        let entry = inFlight.removeFirst()
        if timedOutInFlight > 0 {
            timedOutInFlight -= 1
            return
        }
        entry.reply?.complete(reply.mapError { $0 as any Error })
    }

    func channelClosed(_ source: any Channel, error: RedisError?) {
        guard source === channel else { return }
        let error = error ?? RedisError(.unavailable, "connection to Redis at \(configuration.endpoint) was lost")
        let wasReady: Bool
        if case .ready = state { wasReady = true } else { wasReady = false }
        abandonChannel(error)
        if wasReady {
            logger.warning("Redis connection lost; reconnecting", metadata: ["redis": "\(configuration)"])
        }
    }

    // MARK: Connecting

    private func connect() {
        if case .closed = state { return }
        state = .connecting
        reconnect = nil
        let tlsContext: RedisTLSContext?
        switch tls {
        case .failure(let error)?:
            connectFailed(error)
            return
        case .success(let context)?:
            guard case .tcp = configuration.endpoint else {
                connectFailed(RedisError(.invalidConfiguration, "TLS needs a TCP address, not \(configuration.endpoint)"))
                return
            }
            tlsContext = context
        case nil:
            tlsContext = nil
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { [configuration] channel in
                channel.eventLoop.makeCompletedFuture {
                    // TLS, when configured, is one handler in front of the RESP handler: the protocol
                    // code reads and writes the same bytes either way.
                    if let tlsContext, case .tcp(let host, _) = configuration.endpoint {
                        try channel.pipeline.syncOperations.addHandler(tlsContext.makeHandler(host: host))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RedisChannelHandler(connection: self, maxReplyBytes: configuration.maxReplyBytes, tls: tlsContext)
                    )
                }
            }
        let connected: EventLoopFuture<any Channel>
        switch configuration.endpoint {
        case .tcp(let host, let port): connected = bootstrap.connect(host: host, port: port)
        case .unix(let path): connected = bootstrap.connect(unixDomainSocketPath: path)
        }
        connected.whenComplete { result in
            switch (result, self.state) {
            case (.success(let channel), .connecting):
                self.handshake(on: channel)
            case (.success(let channel), _):
                channel.close(promise: nil)  // the client was closed meanwhile
            case (.failure(let error), .connecting):
                self.connectFailed(self.describeConnectFailure(error))
            case (.failure, _):
                break
            }
        }
    }

    private func handshake(on channel: any Channel) {
        state = .handshaking
        self.channel = channel
        let deadline = NIODeadline.now() + configuration.connectTimeout
        var steps = [(RedisCommand, @Sendable (RedisError) -> RedisError)]()
        if let password = configuration.password {
            var arguments = [password]
            if let username = configuration.username { arguments.insert(username, at: 0) }
            let who = configuration.username.map { "for user '\($0)'" } ?? "with the configured password"
            steps.append((RedisCommand("AUTH", arguments), { [endpoint = configuration.endpoint] error in
                guard error.code == .server else { return error }
                return RedisError(.authenticationFailed, "authentication failed \(who) at \(endpoint)")
            }))
        }
        if configuration.database != 0 {
            steps.append((RedisCommand("SELECT", String(configuration.database)), { [database = configuration.database, endpoint = configuration.endpoint] error in
                guard error.code == .server else { return error }
                return RedisError(.invalidConfiguration, "SELECT \(database) failed at \(endpoint): \(error.serverMessage ?? "")")
            }))
        }
        if let name = configuration.clientName {
            steps.append((RedisCommand("CLIENT", "SETNAME", name), { $0 }))
        }
        if configuration.requiredRole != nil {
            // Sentinel names a master; it is used only once the server itself says it is one, so a
            // demoted master that comes back is never written to. Checked below, before ready().
            steps.append((RedisCommand("ROLE"), { $0 }))
        }
        // Always PING: the connection is ready only once the server has answered, which also catches a
        // server that accepts connections but does not run (SIGSTOP) and one that wants AUTH.
        steps.append((RedisCommand("PING"), { [endpoint = configuration.endpoint] error in
            guard error.serverErrorPrefix == "NOAUTH" else { return error }
            return RedisError(.authenticationFailed, "Redis at \(endpoint) requires authentication and no password is configured")
        }))

        let futures = steps.map { command, mapError in
            let promise = eventLoop.makePromise(of: RedisValue.self)
            write(command, reply: .promise(promise), deadline: deadline)
            return promise.futureResult.flatMapErrorThrowing { error in
                throw mapError(error as? RedisError ?? RedisError(.unavailable, "\(error)"))
            }
        }
        armTimer()
        EventLoopFuture.whenAllSucceed(futures, on: eventLoop).whenComplete { result in
            guard case .handshaking = self.state, self.channel === channel else { return }
            switch result {
            case .success(let replies):
                if let role = self.configuration.requiredRole, let reply = replies.dropLast().last,
                   let actual = reply.array?.first?.string, actual != role {
                    self.abandonChannel(RedisError(.unavailable, "Redis at \(self.configuration.endpoint) is a \(actual == "slave" ? "replica" : actual), not the \(role == "slave" ? "replica" : role) it was named as"))
                    return
                }
                self.ready()
            case .failure(let error):
                var failure = error as? RedisError ?? RedisError(.unavailable, "\(error)")
                if failure.code == .timeout {
                    let milliseconds = self.configuration.connectTimeout.nanoseconds / 1_000_000
                    failure = RedisError(.timeout, "Redis at \(self.configuration.endpoint) accepted the connection but did not answer within \(milliseconds) ms")
                }
                self.abandonChannel(failure)
            }
        }
    }

    private func ready() {
        state = .ready
        stats.connects += 1
        if consecutiveFailures > 0 {
            logger.info("Redis connection restored", metadata: ["redis": "\(configuration)"])
        }
        consecutiveFailures = 0
        let queued = waiting
        waiting.removeAll()
        for entry in queued {
            write(entry.command, reply: entry.reply, deadline: entry.deadline)
            stats.commandsSent += 1
        }
        hooks.onReady?()
    }

    /// Drops the current channel: everything in flight fails with `error`, and a new connection is
    /// attempted (at once after losing a ready connection, after a backoff after a failed attempt).
    private func abandonChannel(_ error: RedisError) {
        let wasReady: Bool
        if case .ready = state { wasReady = true } else { wasReady = false }
        // Forget the channel before closing it: close() may call channelClosed re-entrantly.
        let closing = channel
        channel = nil
        let dropped = inFlight
        inFlight.removeAll()
        timedOutInFlight = 0
        if wasReady {
            connect()
        } else {
            connectFailed(error)
        }
        closing?.close(promise: nil)
        for entry in dropped { entry.reply?.fail(error) }
        if wasReady { hooks.onFailure?(error) }
    }

    private func connectFailed(_ error: RedisError) {
        if case .closed = state { return }
        consecutiveFailures += 1
        stats.failedConnects += 1
        let exponent = min(consecutiveFailures - 1, 30)
        let delay = min(configuration.initialReconnectDelay * (1 << exponent), configuration.maxReconnectDelay)
        state = .backingOff(error)
        if consecutiveFailures == 1 {
            logger.warning("Redis unavailable: \(error.message)", metadata: ["redis": "\(configuration)"])
        } else {
            logger.debug("Redis still unavailable: \(error.message)", metadata: ["redis": "\(configuration)"])
        }
        reconnect = eventLoop.scheduleTask(in: delay) { self.connect() }
        let queued = waiting
        waiting.removeAll()
        for entry in queued { entry.reply.fail(error) }
        hooks.onFailure?(error)
    }

    private func shutdown() -> EventLoopFuture<Void> {
        state = .closed
        reconnect?.cancel()
        reconnect = nil
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        let error = RedisError(.shutdown, "the Redis client for \(configuration.endpoint) is closed")
        let queued = waiting
        let dropped = inFlight
        waiting.removeAll()
        inFlight.removeAll()
        timedOutInFlight = 0
        let closingChannel = channel
        channel = nil
        let closing = closingChannel?.close() ?? eventLoop.makeSucceededVoidFuture()
        for entry in queued { entry.reply.fail(error) }
        for entry in dropped { entry.reply?.fail(error) }
        return closing.flatMapErrorThrowing { _ in }
    }

    // MARK: Timeouts

    /// One timer for the whole connection: commands are queued in deadline order, so only the oldest
    /// live one needs watching.
    private func armTimer() {
        guard let next = nextDeadline() else { return }
        if let timerDeadline, timerDeadline <= next { return }
        timer?.cancel()
        timerDeadline = next
        timer = eventLoop.scheduleTask(deadline: next) { self.timerFired() }
    }

    private func nextDeadline() -> NIODeadline? {
        var next = waiting.first?.deadline
        if timedOutInFlight < inFlight.count {
            let deadline = inFlight[inFlight.index(inFlight.startIndex, offsetBy: timedOutInFlight)].deadline
            next = next.map { min($0, deadline) } ?? deadline
        }
        if timedOutInFlight > 0, let oldest = inFlight.first {
            let stuck = oldest.deadline + configuration.commandTimeout
            next = next.map { min($0, stuck) } ?? stuck
        }
        return next
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        let now = NIODeadline.now()
        var expired = [(RedisReplySink, RedisError)]()
        while let first = waiting.first, first.deadline <= now {
            waiting.removeFirst()
            expired.append((first.reply, timeoutError(first.command.name, connected: false)))
        }
        while timedOutInFlight < inFlight.count {
            let index = inFlight.index(inFlight.startIndex, offsetBy: timedOutInFlight)
            guard inFlight[index].deadline <= now else { break }
            if let reply = inFlight[index].reply {
                expired.append((reply, timeoutError(inFlight[index].name, connected: true)))
            }
            inFlight[index].reply = nil
            timedOutInFlight += 1
        }
        stats.timeouts += expired.count
        // A reply overdue by a second whole timeout means the server or the path to it is stuck:
        // start over on a fresh connection rather than let dead slots fill the queue.
        if timedOutInFlight > 0, let oldest = inFlight.first, oldest.deadline + configuration.commandTimeout <= now {
            logger.warning("Redis stopped answering; reconnecting", metadata: ["redis": "\(configuration)"])
            abandonChannel(RedisError(.timeout, "Redis at \(configuration.endpoint) stopped answering"))
        }
        armTimer()
        for (reply, error) in expired { reply.fail(error) }
    }

    private func timeoutError(_ name: String, connected: Bool) -> RedisError {
        let milliseconds = configuration.commandTimeout.nanoseconds / 1_000_000
        let context = connected ? "at \(configuration.endpoint)" : "waiting for a connection to \(configuration.endpoint)"
        return RedisError(.timeout, "command \(name) timed out after \(milliseconds) ms \(context)")
    }
}
