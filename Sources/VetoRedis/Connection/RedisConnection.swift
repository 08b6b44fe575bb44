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

    init(
        onReady: (@Sendable () -> Void)? = nil, onFailure: (@Sendable (RedisError) -> Void)? = nil,
        onPush: (@Sendable (RedisValue) -> Void)? = nil
    ) {
        self.onReady = onReady
        self.onFailure = onFailure
        self.onPush = onPush
    }
}

/// One Redis connection, owned by one event loop: it connects, has its channel's handler run the
/// handshake, sends commands, and reconnects with capped exponential backoff for as long as the
/// client lives.
///
/// The decisions are ``StateMachine``'s. Commands in flight belong to the channel they were written
/// to (``RedisChannelHandler``); here wait only the commands sent while no channel is ready.
///
/// Pipelining: the handler writes a command at once but flushes in a task queued on the loop, so
/// every command issued in the same loop tick (typically from one batch of channel reads) leaves in
/// one `writev`, and the replies come back in as few reads.
///
/// - `@unchecked Sendable`: every mutable field is read and written only on `eventLoop`. Entry points
///   that may be called elsewhere (`send`, `close`, `statistics`) hop there first.
final class RedisConnection: @unchecked Sendable {
    /// Opens a channel whose pipeline ends in a ``RedisChannelHandler`` made with these settings.
    /// The default is a TCP or unix socket (TLS in front when configured); tests open embedded channels.
    typealias Connector = @Sendable (RedisChannelHandler.Settings) -> EventLoopFuture<any Channel>

    let eventLoop: any EventLoop
    let configuration: RedisConfiguration
    private let logger: Logger
    /// `nil` for plain TCP; a failure (unreadable certificate files) fails every connect with it.
    private let tls: Result<RedisTLSContext, RedisError>?
    private let hooks: RedisConnectionHooks
    private let handshake: RedisHandshake
    private let connector: Connector?

    private var machine: StateMachine<RedisChannelHandler>
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var reconnect: Scheduled<Void>?
    /// The connection's own counters and those of the channels it is done with.
    private var stats = RedisClientStatistics()

    init(
        eventLoop: any EventLoop, configuration: RedisConfiguration, logger: Logger,
        tls: Result<RedisTLSContext, RedisError>? = nil, hooks: RedisConnectionHooks = RedisConnectionHooks(),
        connector: Connector? = nil
    ) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.tls = tls
        self.hooks = hooks
        self.handshake = RedisHandshake(configuration)
        self.connector = connector
        self.machine = StateMachine(configuration)
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
        eventLoop.submit { self.stats + (self.machine.handler?.statistics ?? RedisClientStatistics()) }
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
        let deadline = eventLoop.now + configuration.commandTimeout
        var failed = [(RedisReplySink, RedisError)]()
        var waits = false
        for (command, sink) in zip(commands, sinks) {
            switch machine.enqueue(RedisPendingCommand(command: command, reply: sink, deadline: deadline)) {
            case .send(let handler):
                handler.send(command, reply: sink, deadline: deadline)
            case .wait:
                waits = true
            case .refuse(let error):
                stats.overloads += 1
                failed.append((sink, error))
            case .fail(let error):
                failed.append((sink, error))
            }
        }
        if waits { armTimer() }
        for (sink, error) in failed { sink.fail(error) }
    }

    // MARK: Connecting

    private func connect() {
        guard machine.startConnecting() else { return }
        reconnect = nil
        let settings = RedisChannelHandler.Settings(configuration, acceptsPushes: hooks.onPush != nil, tls: try? tls?.get())
        let connected: EventLoopFuture<any Channel>
        if let connector {
            connected = connector(settings)
        } else {
            connected = openSocket(settings)
        }
        connected.whenComplete { result in
            switch result {
            case .success(let channel): self.connected(channel)
            case .failure(let error): self.connectFailed(error as? RedisError ?? self.describeConnectFailure(error))
            }
        }
    }

    private func openSocket(_ settings: RedisChannelHandler.Settings) -> EventLoopFuture<any Channel> {
        let tlsContext: RedisTLSContext?
        switch tls {
        case .failure(let error)?:
            return eventLoop.makeFailedFuture(error)
        case .success(let context)?:
            guard case .tcp = configuration.endpoint else {
                return eventLoop.makeFailedFuture(RedisError(.invalidConfiguration, "TLS needs a TCP address, not \(configuration.endpoint)"))
            }
            tlsContext = context
        case nil:
            tlsContext = nil
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { [endpoint = configuration.endpoint] channel in
                channel.eventLoop.makeCompletedFuture {
                    // TLS, when configured, is one handler in front of the RESP handler: the protocol
                    // code reads and writes the same bytes either way.
                    if let tlsContext, case .tcp(let host, _) = endpoint {
                        try channel.pipeline.syncOperations.addHandler(tlsContext.makeHandler(host: host))
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(settings: settings))
                }
            }
        switch configuration.endpoint {
        case .tcp(let host, let port): return bootstrap.connect(host: host, port: port)
        case .unix(let path): return bootstrap.connect(unixDomainSocketPath: path)
        }
    }

    /// The channel is up: its handler runs the handshake and reports back through ``handle(_:)``.
    /// Only this channel's handler is ever adopted; channels that happy eyeballs opened and dropped
    /// never were, and report nothing.
    private func connected(_ channel: any Channel) {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self) else {
            channel.close(promise: nil)
            connectFailed(RedisError(.unavailable, "connection to Redis at \(configuration.endpoint) has no Redis handler"))
            return
        }
        switch machine.connected(handler) {
        case .activate(let handler):
            handler.activate(handshake) { event in self.handle(event) }
        case .close:
            channel.close(promise: nil)  // the client was closed meanwhile
        }
    }

    private func handle(_ event: RedisChannelHandler.Event) {
        switch event {
        case .ready:
            guard let ready = machine.handshakeSucceeded() else { return }
            if ready.restored {
                logger.info("Redis connection restored", metadata: ["redis": "\(configuration)"])
            }
            for entry in ready.waiting {
                ready.handler.send(entry.command, reply: entry.reply, deadline: entry.deadline)
            }
            hooks.onReady?()
        case .closed(let error):
            switch machine.channelClosed(error) {
            case .reconnect(let handler):
                retire(handler)
                logger.warning("Redis connection lost (\(error.message)); reconnecting", metadata: ["redis": "\(configuration)"])
                connect()
                hooks.onFailure?(error)
            case .backOff(let backoff):
                backOff(backoff)
            case .none:
                break
            }
        case .push(let value):
            hooks.onPush?(value)
        }
    }

    private func connectFailed(_ error: RedisError) {
        guard let backoff = machine.connectFailed(error) else { return }
        backOff(backoff)
    }

    private func backOff(_ backoff: StateMachine<RedisChannelHandler>.Backoff) {
        if let handler = backoff.retired { retire(handler) }
        stats.failedConnects += 1
        if backoff.isFirst {
            logger.warning("Redis unavailable: \(backoff.error.message)", metadata: ["redis": "\(configuration)"])
        } else {
            logger.debug("Redis still unavailable: \(backoff.error.message)", metadata: ["redis": "\(configuration)"])
        }
        reconnect = eventLoop.scheduleTask(in: backoff.delay) { self.connect() }
        for entry in backoff.failed { entry.reply.fail(backoff.error) }
        hooks.onFailure?(backoff.error)
    }

    /// Keeps the counters of a channel the connection is done with.
    private func retire(_ handler: RedisChannelHandler) {
        stats = stats + handler.statistics
    }

    private func shutdown() -> EventLoopFuture<Void> {
        guard let (handler, waiting) = machine.shutdown().map({ ($0.handler, $0.waiting) }) else {
            return eventLoop.makeSucceededVoidFuture()
        }
        reconnect?.cancel()
        reconnect = nil
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        let error = machine.shutdownError
        var closing = eventLoop.makeSucceededVoidFuture()
        if let handler {
            retire(handler)
            closing = handler.close(error) ?? closing
        }
        for entry in waiting { entry.reply.fail(error) }
        return closing
    }

    // MARK: Timeouts of waiting commands (those in flight are the handler's)

    /// One timer for the waiting commands: they are queued in deadline order.
    private func armTimer() {
        guard let next = machine.nextWaitingDeadline else { return }
        if let timerDeadline, timerDeadline <= next { return }
        timer?.cancel()
        timerDeadline = next
        timer = eventLoop.scheduleTask(deadline: next) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        let expired = machine.expireWaiting(now: eventLoop.now)
        stats.timeouts += expired.count
        armTimer()
        let milliseconds = configuration.commandTimeout.nanoseconds / 1_000_000
        for entry in expired {
            entry.reply.fail(
                RedisError(
                    .timeout, "command \(entry.command.name) timed out after \(milliseconds) ms waiting for a connection to \(configuration.endpoint)"
                ))
        }
    }
}
