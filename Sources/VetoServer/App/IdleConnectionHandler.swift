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
