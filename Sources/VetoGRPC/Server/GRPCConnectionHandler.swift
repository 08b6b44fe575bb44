import NIOCore
import NIOHPACK
import NIOHTTP2

/// Veto's gRPC calls on one HTTP/2 connection, right after NIO's `NIOHTTP2Handler`, which hands it
/// every frame of every stream: no channel per stream and no Task per call. A request is read whole
/// (one length-prefixed message), checked on this connection's event loop through the data plane's
/// callback API, and answered with three frames (headers, message, trailers).
///
/// This class does only I/O: what to do next is decided by `StateMachine`
/// (GRPCConnectionHandler+StateMachine.swift). It owns the timers: the idle timeout (no call open),
/// the request timeout (a message that does not arrive) and the drain timeout (graceful shutdown).
final class GRPCConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let services: GRPCServices
    var state: StateMachine
    private(set) var context: ChannelHandlerContext?
    /// Inside channelRead: answers wait for channelReadComplete to be flushed together.
    private var reading = false
    private var flushPending = false
    /// A flush is queued on the event loop for answers that came back outside a read (from the store).
    private var flushQueued = false
    var idleTimer: Scheduled<Void>?
    var requestTimer: Scheduled<Void>?
    var drainTimer: Scheduled<Void>?

    init(services: GRPCServices, now: NIODeadline) {
        self.services = services
        self.state = StateMachine(
            maxMessageBytes: services.settings.maxMessageBytes, windowBytes: services.settings.connectionWindowBytes, now: now)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        state.closed()
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard idleTimer == nil else { return }
        // The connection window beyond HTTP/2's initial 65,535 bytes, granted at once.
        if let increment = state.windowIncrement() {
            context.writeAndFlush(
                wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
        }
        scheduleIdleCheck(context: context, at: context.eventLoop.now + services.settings.idleTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case let .headers(headers):
            run(state.receivedHeaders(frame.streamID, headers.headers, endStream: headers.endStream, now: context.eventLoop.now), context: context)
        case let .data(data):
            guard case let .byteBuffer(bytes) = data.data else { return }
            let flowControlled = bytes.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
            run(
                state.receivedData(frame.streamID, bytes, flowControlled: flowControlled, endStream: data.endStream, now: context.eventLoop.now),
                context: context)
        case .rstStream:
            state.streamClosed(frame.streamID)
            closeIfDrained(context: context)
        default:
            // PING, SETTINGS, WINDOW_UPDATE, GOAWAY, PRIORITY: NIO's HTTP/2 handler has dealt with them.
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if grantWindow(context: context) { flushPending = true }
        armRequestTimer(context: context)
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // NIO's HTTP/2 handler fires several events per call: told apart by type, not by a cast each.
        let type = type(of: event)
        if type == StreamClosedEvent.self, let closed = event as? StreamClosedEvent {
            // Also fired while an answer's last frame is written: a close waits for the next tick.
            state.streamClosed(closed.streamID)
            closeIfDrained(context: context)
        } else if type == NIOHTTP2WindowUpdatedEvent.self, let window = event as? NIOHTTP2WindowUpdatedEvent {
            // The connection's window is Veto's to grant back (`windowIncrement`); a stream never needs
            // more than its initial window, for one message.
            if window.streamID == .rootStream, let inbound = window.inboundWindowSize { state.connectionWindowChanged(to: inbound) }
        } else if type == NIOHTTP2StreamCreatedEvent.self {
            // Streams are tracked from their frames.
        } else if event is ChannelShouldQuiesceEvent {
            drain(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let streamError = error as? NIOHTTP2Errors.StreamError {
            // NIO has reset the stream already.
            state.streamClosed(streamError.streamID)
            closeIfDrained(context: context)
            return
        }
        // A connection error (NIO has sent GOAWAY) or an I/O error: the connection is done.
        context.close(promise: nil)
    }

    // MARK: Carrying out actions

    private func run(_ action: StateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case let .dispatch(stream, method, message):
            dispatch(stream, method, message, context: context)
        case let .refuse(stream, refusal, reset):
            writeRefusal(stream, refusal, reset: reset, context: context)
        }
    }

    /// Trailers only (or 415), then RST_STREAM if the client is still sending.
    func writeRefusal(_ stream: HTTP2StreamID, _ refusal: StateMachine.Refusal, reset: Bool, context: ChannelHandlerContext) {
        let headers: HPACKHeaders
        switch refusal {
        case .unsupportedMediaType: headers = GRPCResponseHeaders.unsupportedMediaType
        case let .status(status): headers = GRPCResponseHeaders.trailersOnly(status)
        }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: true)))), promise: nil)
        if reset { context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .rstStream(.noError))), promise: nil) }
        flushSoon(context: context)
        closeIfDrained(context: context)
    }

    /// A whole answer: headers, the message (`framed`: with its gRPC prefix), and `status` as trailers.
    func writeAnswer(_ stream: HTTP2StreamID, framed message: ByteBuffer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: GRPCResponseHeaders.headers)))), promise: nil)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(message))))), promise: nil)
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: GRPCResponseHeaders.ok, endStream: true)))), promise: nil)
        flushSoon(context: context)
        closeIfDrained(context: context)
    }

    /// Answers read in one batch of socket reads are flushed together at its end; answers that came
    /// back from the store together are flushed together on the next turn of the event loop.
    func flushSoon(context: ChannelHandlerContext) {
        if reading {
            flushPending = true
            return
        }
        guard !flushQueued else { return }
        flushQueued = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = bound.value
            handler.flushQueued = false
            handler.context?.flush()
        }
    }

    /// Writes the connection window to grant back, if it is time; true if it wrote one (to flush).
    func grantWindow(context: ChannelHandlerContext) -> Bool {
        guard let increment = state.windowIncrement() else { return false }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
        return true
    }

    /// Draining and nothing left in flight: close, on the next tick (the answer just written is
    /// flushed first).
    func closeIfDrained(context: ChannelHandlerContext) {
        if state.shouldClose { closeSoon(context: context) }
    }
}
