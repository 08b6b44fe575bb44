import NIOCore
import NIOHTTPTypes

/// Closes a connection that has been idle for `idleTimeout`: no request being read and no answer
/// owed. It sits first after HTTP decoding, so it sees the requests and answers of both planes.
///
/// Hummingbird's own idle timer sits after the data-plane handler and never sees `/v1/check`, so
/// it took a busy keep-alive connection of checks for an idle one and closed it `idleTimeout` after
/// it opened, even with a check in flight. Its timer is therefore off, and this one replaces it.
/// A connection that never completes a request head (slowloris) stays "idle since it opened".
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let idleTimeout: TimeAmount
    /// Requests whose head arrived and whose answer has not been written in full.
    private var owed = 0
    /// A request's head arrived and its `.end` not yet: the client is sending.
    private var reading = false
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var quiescing = false
    /// How long an idle connection keeps reading after a graceful-shutdown request.
    static let quiesceGrace = TimeAmount.milliseconds(100)

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head:
            owed += 1
            reading = true
        case .body:
            break
        case .end:
            reading = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            owed = max(0, owed - 1)
            lastActivity = .now()
        }
        context.write(data, promise: promise)
    }

    /// Graceful shutdown (SIGTERM) of a connection with nothing in flight: a request may already sit
    /// unread in the socket buffer, and closing at once would reset it (the client sent it before
    /// the signal and gets no answer). Keep reading for a moment, then pass the event on; a request
    /// that arrived meanwhile is in flight, and the planes answer it before the connection closes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent, owed == 0, !quiescing else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        context.read()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.quiesceGrace) {
            loopBound.value.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastActivity = .now()
        schedule(context: context, at: lastActivity + idleTimeout)
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if owed > 0 && !reading {
            // Answers are owed (a check may be waiting on the store): not idle. Request and
            // store timeouts bound that wait; look again later.
            schedule(context: context, at: .now() + idleTimeout)
            return
        }
        let deadline = lastActivity + idleTimeout
        if deadline <= .now() {
            context.close(promise: nil)
        } else {
            schedule(context: context, at: deadline)
        }
    }
}
