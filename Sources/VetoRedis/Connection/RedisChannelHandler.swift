import NIOCore
import NIOSSL

/// One Redis channel: writes commands, parses replies with hiredis and hands each to the command it
/// answers, times commands out, and fails every command in flight when the channel goes.
///
/// The commands in flight live here, with the channel they were written to, so a reply can only
/// ever reach a command of its own channel: a new channel after a reconnect starts with an empty
/// queue, and the replies of an old one die with it. The decisions are ``StateMachine``'s; this
/// class carries them out on the channel's event loop.
///
/// Its ``RedisConnection`` adopts it once the channel is connected (``activate(_:onEvent:)``), then
/// hears from it only through ``Event``s: ready once the handshake is done, closed once if the
/// channel goes by itself (never after the connection called ``close(_:)``), and Pub/Sub messages.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Event {
        /// Every handshake step succeeded: commands may be sent.
        case ready
        /// The channel is gone; every command that was in flight fails with this error.
        case closed(RedisError)
        /// A reply with no command waiting, on a connection that takes Pub/Sub messages.
        case push(RedisValue)
    }

    private var machine: StateMachine
    private let parser: RESPParser
    private var context: ChannelHandlerContext?
    private var onEvent: ((Event) -> Void)?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var flushQueued = false
    /// This channel's share of the connection's counters.
    private(set) var statistics = RedisClientStatistics()

    init(settings: Settings) {
        self.machine = StateMachine(settings: settings)
        self.parser = RESPParser(maxBufferedBytes: settings.maxReplyBytes)
    }

    // MARK: Used by RedisConnection, on the channel's event loop

    /// Adopts the connected channel: sends the handshake, then reports through `onEvent`.
    func activate(_ handshake: RedisHandshake, onEvent: @escaping (Event) -> Void) {
        self.onEvent = onEvent
        guard let context else {
            onEvent(.closed(RedisError(.unavailable, "connection to Redis at \(machine.settings.endpoint) was lost")))
            return
        }
        switch machine.activate(handshake, now: context.eventLoop.now) {
        case .writeHandshake(let commands):
            for command in commands { context.write(wrapOutboundOut(command.encoded), promise: nil) }
            context.flush()
            machine.flushed()
            statistics.writeBatches += 1
            armTimer()
        case .reportClosed(let error):
            onEvent(.closed(error))
        }
    }

    /// Writes `command` (flushed later in this loop tick, with the others written in it) or fails it.
    func send(_ command: RedisCommand, reply: RedisReplySink, deadline: NIODeadline) {
        switch machine.send(name: command.name, reply: reply, deadline: deadline) {
        case .write:
            guard let context else { preconditionFailure("an active Redis handler without a channel") }
            statistics.commandsSent += 1
            context.write(wrapOutboundOut(command.encoded), promise: nil)
            queueFlush(context)
            armTimer()
        case .refuse(let error):
            statistics.overloads += 1
            reply.fail(error)
        case .fail(let error):
            reply.fail(error)
        }
    }

    /// Closes the channel; commands in flight fail with `error`. Reports nothing back. `nil` if the
    /// handler is no longer in a pipeline (the channel is gone already).
    func close(_ error: RedisError) -> EventLoopFuture<Void>? {
        let failure = machine.close(error)
        cancelTimer()
        let closing = context.map { context in
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.close(promise: promise)
            // Closing a channel that already went is fine.
            return promise.futureResult.flatMapErrorThrowing { _ in }
        }
        failure?.failing.forEach { $0.fail(error) }
        return closing
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let failure = machine.channelInactive() { perform(failure) }
        cancelTimer()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let failure = machine.dataArrived() {
            perform(failure)
            return
        }
        guard machine.isOpen else { return }
        statistics.readEvents += 1
        do throws(RedisError) {
            try parser.feed(unwrapInboundIn(data))
            while let reply = try parser.next() {
                guard handle(reply) else { return }
            }
        } catch {
            if let failure = machine.failure(error) { perform(failure) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let failure = machine.channelInactive() { perform(failure) }
        cancelTimer()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let settings = machine.settings
        let failure: RedisError
        if let tls = settings.tls, error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            failure = tls.describe(error, endpoint: settings.endpoint, peer: peer)
        } else {
            failure = RedisError(.unavailable, "connection to Redis at \(settings.endpoint) failed: \(error)")
        }
        if let action = machine.failure(failure) {
            perform(action)
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: Carrying out the machine's decisions

    /// Hands one reply on; `false` once the channel is done and the rest of the bytes are moot.
    private func handle(_ reply: Result<RedisValue, RedisError>) -> Bool {
        switch machine.received(reply) {
        case .deliver(let sink, let reply):
            statistics.replies += 1
            sink.complete(reply.mapError { $0 as any Error })
        case .drop, .handshakeStep:
            statistics.replies += 1
        case .ready:
            statistics.replies += 1
            statistics.connects += 1
            onEvent?(.ready)
        case .push(let value):
            onEvent?(.push(value))
        case .fail(let failure):
            perform(failure)
            return false
        case .ignore:
            return false
        }
        return true
    }

    /// The channel is done: the connection hears first (so commands sent from the failing commands'
    /// callbacks already go to its next channel), then every command in flight fails.
    private func perform(_ failure: StateMachine.Failure) {
        cancelTimer()
        if failure.report { onEvent?(.closed(failure.error)) }
        for sink in failure.failing { sink.fail(failure.error) }
        if failure.closeChannel { context?.close(promise: nil) }
    }

    /// One flush per loop tick, however many commands were written in it: commands issued in the same
    /// tick (typically from one batch of channel reads) leave in one `writev`.
    private func queueFlush(_ context: ChannelHandlerContext) {
        guard !flushQueued else { return }
        flushQueued = true
        context.eventLoop.assumeIsolated().execute {
            self.flushQueued = false
            guard self.machine.isOpen, let context = self.context else { return }
            context.flush()
            self.machine.flushed()
            self.statistics.writeBatches += 1
        }
    }

    /// One timer per channel: commands are queued in deadline order, so only the next deadline needs
    /// watching.
    private func armTimer() {
        guard let next = machine.nextDeadline, let context else { return }
        if let timerDeadline, timerDeadline <= next { return }
        timer?.cancel()
        timerDeadline = next
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { self.timerFired() }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let context else { return }
        let (expired, failure) = machine.deadlinePassed(now: context.eventLoop.now)
        statistics.timeouts += expired.count
        if let failure {
            perform(failure)
        } else {
            armTimer()
        }
        for (sink, error) in expired { sink.fail(error) }
    }
}
