import Logging
import NIOCore
import NIOHTTP1

/// Answers `/v1/check` and `POST /v1/revoke` on the event loop, in front of Hummingbird.
///
/// It sits right after NIO's HTTP/1 decoder and encoder, before the conversion to HTTPTypes
/// (`HTTP1Pipeline` puts it there): data-plane requests are answered here with no Task per request
/// and no conversion; every other request is passed on, unchanged, to the codec and the control plane.
/// Data-plane answers are written as finished HTTP/1.1 bytes (`WireResponse`) from the encoder's
/// position; the control plane's answers take the usual way through the encoder.
///
/// This class does only I/O: what to do next is decided by `StateMachine`
/// (DataPlaneHandler+StateMachine.swift), which keeps the exchanges in order across both planes. The
/// handler owns the two timers: the request timeout (a body that does not arrive) and the idle check.
/// It closes idle connections because it is the one handler that sees the requests and the answers of
/// both planes; Hummingbird's own idle timer would never see `/v1/check` and is turned off.
final class DataPlaneHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How long an idle connection keeps reading after a graceful-shutdown request.
    static let quiesceGrace = TimeAmount.milliseconds(100)

    private let plane: DataPlane
    private var state: StateMachine
    private let idleTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    /// The HTTP/1 response encoder's context: a write from it goes straight towards the socket.
    private var wire: ChannelHandlerContext?
    /// Fires when an incomplete request's body has not arrived within the request timeout.
    private var requestTimer: Scheduled<Void>?
    /// Checks for idleness; rescheduled only when it fires, so traffic costs no timer work.
    private var idleTimer: Scheduled<Void>?
    /// The short read grace after a graceful-shutdown request on an idle connection.
    private var graceTimer: Scheduled<Void>?

    /// - Parameter wire: the context of the response encoder placed right before this handler.
    init(plane: DataPlane, idleTimeout: TimeAmount, wire: ChannelHandlerContext, now: NIODeadline) {
        self.plane = plane
        self.idleTimeout = idleTimeout
        self.requestTimeout = .milliseconds(Int64(plane.limits.requestTimeout * 1000))
        self.wire = wire
        self.state = StateMachine(maxBodyBytes: plane.limits.maxBodyBytes, maxPipelined: plane.limits.maxPipelinedRequests, now: now)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startIdleTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdleTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = context.eventLoop.now
        switch unwrapInboundIn(data) {
        case let .head(head):
            run(state.receivedHead(head, route: DataPlane.route(head), now: now), context: context)
        case let .body(buffer):
            run(state.receivedBody(buffer, now: now), context: context)
        case .end:
            requestTimer?.cancel()
            requestTimer = nil
            run(state.receivedEnd(now: now), context: context)
        }
        runNext(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Armed only when a request is still incomplete after a read: most arrive whole in one read,
        // and a timer per request costs more than a cache hit.
        if requestTimer == nil, let since = state.incompleteSince {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            requestTimer = context.eventLoop.scheduleTask(deadline: since + requestTimeout) {
                let (handler, context) = bound.value
                handler.requestTimer = nil
                handler.run(handler.state.requestTimedOut(), context: context)
            }
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the control plane's answers pass through here; ours are written below this handler.
        switch state.controlPlaneWrites(unwrapOutboundIn(data), now: context.eventLoop.now) {
        case .drop:
            promise?.succeed(())
        case .pass:
            context.write(data, promise: promise)
        case .passThenNext:
            context.write(data, promise: promise)
            runNext(context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if state.readRequested() { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        run(state.quiesceRequested(), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        wire = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    // MARK: Carrying out actions

    private func runNext(context: ChannelHandlerContext) {
        while true {
            let action = state.next()
            if case .none = action { return }
            run(action, context: context)
        }
    }

    private func run(_ action: StateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case let .forward(part):
            context.fireChannelRead(wrapInboundOut(part))
        case let .replay(parts):
            for part in parts { context.fireChannelRead(wrapInboundOut(part)) }
            context.fireChannelReadComplete()
        case let .respond(route, head, body):
            respond(route, head, body, context: context)
        case .refuseTooLarge:
            answer(CheckResponder.tooLarge(limit: plane.limits.maxBodyBytes, allocator: context.channel.allocator), context: context)
        case .writeTimeoutAndClose:
            // Debug, not info: any client can cause it, once per connection (the answer, 408, is the signal).
            plane.logger.debug("request timed out before its body arrived; closing the connection")
            write(CheckResponder.requestTimeout(allocator: context.channel.allocator), withBody: true, close: true, context: context)
        case .read:
            context.read()
        case .graceRead:
            context.read()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            graceTimer = context.eventLoop.scheduleTask(in: Self.quiesceGrace) {
                let (handler, context) = bound.value
                handler.graceTimer = nil
                guard context.channel.isActive else { return }
                handler.run(handler.state.graceEnded(), context: context)
            }
        case .fireQuiesce:
            guard context.channel.isActive else { return }
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        case .close:
            plane.logger.debug("request timed out before it was read whole; closing the connection")
            context.close(promise: nil)
        }
    }

    private func respond(_ route: DataPlane.Route, _ head: HTTPRequestHead, _ body: ByteBuffer?, context: ChannelHandlerContext) {
        // The answer comes back on this loop (every store calls back there), and the bound pair is only
        // opened there (a struct: no allocation). Should a callback ever arrive from another thread, it
        // hops over instead of trapping the whole server.
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        plane.respond(to: route, request: head, body: body, allocator: context.channel.allocator, on: loop) { response in
            guard loop.inEventLoop else {
                loop.execute { bound.value.handler.answer(response, context: bound.value.context) }
                return
            }
            bound.value.handler.answer(response, context: bound.value.context)
        }
    }

    private func answer(_ response: WireResponse, context: ChannelHandlerContext) {
        guard case let .write(withBody, close) = state.answered(now: context.eventLoop.now) else { return }
        write(response, withBody: withBody, close: close, context: context)
        if !close { runNext(context: context) }
    }

    private func write(_ response: WireResponse, withBody: Bool, close: Bool, context: ChannelHandlerContext) {
        guard let wire else {
            context.close(promise: nil)
            return
        }
        let bytes = response.serialized(close: close, withBody: withBody, allocator: context.channel.allocator)
        guard close else {
            wire.writeAndFlush(NIOAny(bytes), promise: nil)
            return
        }
        wire.writeAndFlush(NIOAny(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: Timers

    private func cancelTimers() {
        requestTimer?.cancel()
        requestTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
        graceTimer?.cancel()
        graceTimer = nil
    }

    private func startIdleTimer(context: ChannelHandlerContext) {
        guard idleTimer == nil else { return }
        scheduleIdleCheck(context: context, at: context.eventLoop.now + idleTimeout)
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.idleTimer = nil
            guard context.channel.isActive else { return }
            switch handler.state.idleCheck(now: context.eventLoop.now, idleTimeout: handler.idleTimeout) {
            case .close: context.close(promise: nil)
            case let .checkAgain(at): handler.scheduleIdleCheck(context: context, at: at)
            }
        }
    }
}
