import CoreMetrics
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Answers `/v1/check` and `POST /v1/revoke` on the event loop, in front of Hummingbird.
///
/// It sits right after NIO's HTTP/1 decoder in Hummingbird's pipeline, before the conversion to
/// HTTPTypes (`DataPlaneInstaller` puts it there): data-plane requests are answered here with no
/// Task per request and no conversion; every other request is passed on, unchanged, to the codec and
/// the control plane.
/// HTTP/1 pipelining is respected: requests on one connection are answered strictly in order,
/// so a request waits while an earlier one (of either plane) is still being answered.
///
/// Data-plane answers are written as finished HTTP/1.1 bytes (`WireResponse`) from the position of
/// NIO's HTTP/1 response encoder, so they skip the HTTPTypes conversion and the encoder; the control
/// plane's answers take the usual way. Both go through one ordered outbound path, and a data-plane
/// answer is only written when no control-plane answer is unfinished.
///
/// It also closes idle connections, because it is the one handler that sees the requests and the
/// answers of both planes: a connection is idle after `idleTimeout` with no request being read and
/// no answer owed. Hummingbird's own idle timer would sit behind this handler, never see `/v1/check`,
/// and cut a busy keep-alive connection of checks `idleTimeout` after it opened; it is turned off.
/// A connection that never completes a request head (slowloris) stays "idle since it opened".
final class DataPlaneHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Exchange {
        /// nil: forwarded to the control plane.
        let route: DataPlane.Route?
        let head: HTTPRequestHead
        var body: ByteBuffer?
        var bodyTooLarge = false
        /// The request's `.end` has arrived.
        var complete = false
        /// Parts of a forwarded request that arrived while an earlier exchange was in progress.
        var buffered: [HTTPServerRequestPart] = []
        /// Answering has begun (local) or its parts are flowing to the control plane (forwarded).
        var started = false
        /// The control plane has written this exchange's `.end`.
        var responded = false
        /// When the head arrived (data-plane requests): the request timeout counts from here.
        var arrived: NIODeadline = .distantPast
    }

    private let plane: DataPlane
    private var queue = CircularBuffer<Exchange>(initialCapacity: 4)
    private var readPending = false
    private var quiescePending = false
    private var closeAfterResponse = false
    /// Fires when a data-plane request's body has not arrived within the request timeout.
    private var bodyDeadline: Scheduled<Void>?
    /// The HTTP/1 response encoder's context: a write from it goes straight towards the socket.
    private var wireContext: ChannelHandlerContext?

    private let idleTimeout: TimeAmount
    /// The last request part read or answer written.
    private var lastActivity = NIODeadline.now()
    /// Checks for idleness; rescheduled only when it fires, so traffic costs no timer work.
    private var idleTimer: Scheduled<Void>?
    /// A graceful-shutdown request arrived on an idle connection and its short read grace is running.
    private var quiescing = false
    /// How long an idle connection keeps reading after a graceful-shutdown request.
    static let quiesceGrace = TimeAmount.milliseconds(100)

    init(plane: DataPlane, idleTimeout: TimeAmount) {
        self.plane = plane
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        wireContext = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        if wireContext == nil {
            // Hummingbird always puts NIO's encoder before this handler; without it answers cannot be written.
            plane.logger.critical("no HTTP/1 response encoder in the channel pipeline; closing the connection")
            context.close(promise: nil)
        }
        if context.channel.isActive { startIdleTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdleTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        lastActivity = .now()
        switch part {
        case let .head(request):
            let route = DataPlane.route(request)
            var exchange = Exchange(route: route, head: request)
            // The body timer is armed in channelReadComplete, only when a request is still incomplete after
            // a read: most arrive whole in one read, and a timer per request costs more than a cache hit.
            exchange.arrived = .now()  // both planes: a trickled body must not hold a connection slot
            if route == nil {
                if queue.isEmpty {
                    exchange.started = true
                    context.fireChannelRead(data)
                } else {
                    exchange.buffered.append(part)
                }
            }
            queue.append(exchange)
        case let .body(buffer):
            guard !queue.isEmpty else { return }
            let last = queue.index(before: queue.endIndex)
            if queue[last].route == nil {
                if queue[last].started { context.fireChannelRead(data) } else { queue[last].buffered.append(part) }
            } else if !queue[last].bodyTooLarge {
                var body = queue[last].body ?? context.channel.allocator.buffer(capacity: buffer.readableBytes)
                if body.readableBytes + buffer.readableBytes > plane.limits.maxBodyBytes {
                    queue[last].bodyTooLarge = true
                    queue[last].body = nil
                } else {
                    var buffer = buffer
                    body.writeBuffer(&buffer)
                    queue[last].body = body
                }
            }
        case .end:
            guard !queue.isEmpty else { return }
            let last = queue.index(before: queue.endIndex)
            queue[last].complete = true
            bodyDeadline?.cancel()
            bodyDeadline = nil
            if queue[last].route == nil {
                if queue[last].started { context.fireChannelRead(data) } else { queue[last].buffered.append(part) }
                if queue[last].started && queue[last].responded {
                    queue.remove(at: last)
                    startNext(context: context)
                }
            }
        }
        startNext(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if bodyDeadline == nil, let index = queue.firstIndex(where: { !$0.complete }) {
            // A client that sends a head and then trickles its body must not hold a slot forever, on
            // either plane (limits.request_timeout; Hummingbird's own timer is off, see VetoService).
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let deadline = queue[index].arrived + .milliseconds(Int64(plane.limits.requestTimeout * 1000))
            bodyDeadline = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                handler.requestTimedOut(context: context)
            }
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the control plane's responses pass through here; ours are written below this handler.
        let part = unwrapOutboundIn(data)
        if case .body = part, !queue.isEmpty, queue[queue.startIndex].head.method == .HEAD {
            // An answer to HEAD has the headers of the GET answer and no body (RFC 9110 §9.3.2); the
            // encoder no longer knows the request's method (see DataPlaneInstaller).
            promise?.succeed(())
            return
        }
        context.write(data, promise: promise)
        guard case .end = part else { return }
        lastActivity = .now()
        guard !queue.isEmpty, queue[queue.startIndex].route == nil else { return }
        if queue[queue.startIndex].complete {
            queue.removeFirst()
            startNext(context: context)
        } else {
            queue[queue.startIndex].responded = true
        }
    }

    func read(context: ChannelHandlerContext) {
        // Back-pressure: a client that pipelines too much waits until earlier answers are out.
        if queue.count >= plane.limits.maxPipelinedRequests {
            readPending = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if queue.isEmpty && !quiescing {
            // Graceful shutdown (SIGTERM) of a connection with nothing in flight: a request may already
            // sit unread in the socket buffer, and closing at once would reset it (the client sent it
            // before the signal and gets no answer). Keep reading for a moment, then decide again; a
            // request that arrived meanwhile is in flight and is answered before the connection closes.
            quiescing = true
            context.read()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: Self.quiesceGrace) {
                let (handler, context) = loopBound.value
                handler.quiesce(context: context)
            }
            return
        }
        if !quiescing { quiesce(context: context) }
    }

    private func quiesce(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if queue.contains(where: { $0.route != nil }) {
            // Answer the data-plane requests in flight first; startNext passes the event on once the
            // queue is empty, and the control plane then closes the connection.
            quiescePending = true
        } else {
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    private func requestTimedOut(context: ChannelHandlerContext) {
        bodyDeadline = nil
        guard let index = queue.firstIndex(where: { !$0.complete }) else { return }
        guard queue[index].route != nil else {
            // A control-plane request in Hummingbird's hands: no answer can be framed from here.
            plane.logger.debug("control-plane request timed out before its body arrived; closing the connection")
            context.close(promise: nil)
            return
        }
        // Debug, not info: any client can cause it, once per connection (the answer, 408, is the signal).
        plane.logger.debug("request timed out before its body arrived; closing the connection")
        if index == queue.startIndex || queue[queue.startIndex..<index].allSatisfy({ $0.route != nil && !$0.started }) {
            closeAfterResponse = true
            queue.removeAll()
            writeAndClose(context: context, CheckResponder.requestTimeout(allocator: context.channel.allocator))
        } else {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        idleTimer?.cancel()
        idleTimer = nil
        wireContext = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    // MARK: Idle connections

    private func startIdleTimer(context: ChannelHandlerContext) {
        guard idleTimer == nil else { return }
        lastActivity = .now()
        scheduleIdleCheck(context: context, at: lastActivity + idleTimeout)
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.idleTimer = nil
            handler.idleCheck(context: context)
        }
    }

    private func idleCheck(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if !queue.isEmpty, queue[queue.index(before: queue.endIndex)].complete {
            // Answers are owed (a check may be waiting on the store): not idle. Request and store
            // timeouts bound that wait; look again later.
            scheduleIdleCheck(context: context, at: .now() + idleTimeout)
            return
        }
        let deadline = lastActivity + idleTimeout
        if deadline <= .now() {
            context.close(promise: nil)
        } else {
            scheduleIdleCheck(context: context, at: deadline)
        }
    }

    private func startNext(context: ChannelHandlerContext) {
        guard !queue.isEmpty else {
            if readPending {
                readPending = false
                context.read()
            }
            if quiescePending {
                quiescePending = false
                context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            return
        }
        // Fields are read in place: copying an exchange (a whole request head) costs more than it seems.
        let first = queue.startIndex
        guard !queue[first].started else { return }
        queue[first].started = true
        guard let route = queue[first].route else {
            let buffered = queue[first].buffered
            queue[first].buffered = []
            for part in buffered { context.fireChannelRead(wrapInboundOut(part)) }
            // Hummingbird's async channel hands reads to its request loop on read-complete; without this a
            // request replayed after a pipelined data-plane answer would wait for the client's next read.
            if !buffered.isEmpty { context.fireChannelReadComplete() }
            return
        }
        guard queue[first].complete else {
            queue[first].started = false
            return
        }
        if DataPlane.asksToClose(queue[first].head) { closeAfterResponse = true }
        if queue[first].bodyTooLarge {
            closeAfterResponse = true
            finish(context: context, CheckResponder.tooLarge(limit: plane.limits.maxBodyBytes, allocator: context.channel.allocator))
            return
        }
        // The answer comes back on this loop (every store calls back there), and the bound pair is only
        // opened there (a struct: no allocation). Should a callback ever arrive from another thread, it
        // hops over instead of trapping the whole server.
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        plane.respond(to: route, request: queue[first].head, body: queue[first].body, allocator: context.channel.allocator,
                      on: loop) { response in
            guard loop.inEventLoop else {
                loop.execute { bound.value.handler.finish(context: bound.value.context, response) }
                return
            }
            let (handler, context) = bound.value
            handler.finish(context: context, response)
        }
    }

    private func finish(context: ChannelHandlerContext, _ response: WireResponse) {
        lastActivity = .now()
        // Read in place: `queue.first` would copy the whole exchange.
        let withBody = queue.isEmpty || queue[queue.startIndex].head.method != .HEAD
        if closeAfterResponse {
            queue.removeAll()
            writeAndClose(context: context, response, withBody: withBody)
            return
        }
        guard let wireContext else { return }
        wireContext.writeAndFlush(NIOAny(response.serialized(close: false, withBody: withBody, allocator: context.channel.allocator)), promise: nil)
        if !queue.isEmpty { queue.removeFirst() }
        startNext(context: context)
    }

    private func writeAndClose(context: ChannelHandlerContext, _ response: WireResponse, withBody: Bool = true) {
        guard let wireContext else {
            context.close(promise: nil)
            return
        }
        wireContext.writeAndFlush(NIOAny(response.serialized(close: true, withBody: withBody, allocator: context.channel.allocator)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Puts a `DataPlaneHandler` into Hummingbird's HTTP/1 pipeline right before its HTTPTypes codec.
/// Hummingbird adds extra handlers only after the codec; this one moves the data plane in front of
/// it, where requests are still NIOHTTP1 parts, and then removes itself.
///
/// It also replaces the request decoder with one that is not paired with the response encoder.
/// `configureHTTPServerPipeline` pairs them: the decoder queues every request's method in the
/// encoder, and the encoder takes one off for each response head it encodes, so that a response to
/// HEAD goes out without a body. Data-plane answers are written as finished bytes past the encoder,
/// so their methods were never taken off: the queue grew by one entry per check for the life of a
/// keep-alive connection (about 20 MB after 680,000 checks on two connections, under massif), and a
/// control-plane answer after a HEAD check was framed as a HEAD answer, its body dropped. Unpaired,
/// the encoder frames by status alone; HEAD is handled by the data plane for both planes (its own
/// answers are written without a body, and body parts of the control plane's answers to HEAD are
/// dropped).
final class DataPlaneInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    private let plane: DataPlane
    private let idleTimeout: TimeAmount
    private let decoderLimits: NIOHTTPDecoderLimitConfiguration
    private let connections: ConnectionLimit

    init(plane: DataPlane, idleTimeout: TimeAmount, decoderLimits: NIOHTTPDecoderLimitConfiguration, connections: ConnectionLimit) {
        self.plane = plane
        self.idleTimeout = idleTimeout
        self.decoderLimits = decoderLimits
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        guard connections.admit() else {
            // Over limits.max_connections: accepted, then closed before anything is read.
            plane.metrics.connectionsRefused.increment()
            // Closed once the pipeline is set up (a close from inside its initialisation is lost),
            // before the event loop reads anything from the socket.
            let channel = context.channel
            context.eventLoop.execute { channel.close(promise: nil) }
            pipeline.removeHandler(context: context, promise: nil)
            return
        }
        let connections = self.connections
        context.channel.closeFuture.whenComplete { _ in connections.release() }
        do {
            let pairedDecoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let decoder = HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits)
            try pipeline.addHandler(ByteToMessageHandler(decoder), position: .after(pairedDecoder.handler))
            pipeline.removeHandler(context: pairedDecoder, promise: nil)
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(DataPlaneHandler(plane: plane, idleTimeout: idleTimeout), position: .before(codec))
        } catch {
            plane.logger.critical("cannot install the data plane in the HTTP/1 pipeline (\(error)); closing the connection")
            context.close(promise: nil)
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
