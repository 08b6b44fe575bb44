import NIOCore
import NIOHTTP2
import VetoServer

extension GRPCConnectionHandler {
    /// Answers a call whose request arrived whole.
    func dispatch(_ stream: HTTP2StreamID, _ method: GRPCMethod, _ message: ByteBuffer, context: ChannelHandlerContext) {
        switch method {
        case .check: check(stream, message, context: context)
        case .healthCheck, .healthWatch: health(stream, method, message, context: context)
        }
    }

    /// `Authorization/Check`, on this connection's event loop (where its verification cache lives).
    private func check(_ stream: HTTP2StreamID, _ message: ByteBuffer, context: ChannelHandlerContext) {
        let authorization: String?
        do {
            authorization = try message.withUnsafeReadableBytes { try CheckRequestReader.authorization(in: $0) }
        } catch {
            refuseAnswering(stream, GRPCStatus(.invalidArgument, "the CheckRequest is not a valid message (\(error))"), context: context)
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        services.gate.check(authorization: authorization, on: loop) { verdict in
            // Every store calls back on `loop`; should one ever not, hop over instead of trapping.
            guard loop.inEventLoop else {
                loop.execute { bound.value.answerCheck(stream, verdict) }
                return
            }
            bound.value.answerCheck(stream, verdict)
        }
    }

    private func answerCheck(_ stream: HTTP2StreamID, _ verdict: GatewayVerdict) {
        guard let context, state.answerReady(stream, now: context.eventLoop.now) == .write else { return }
        let message = CheckResponseWriter.framedResponse(
            to: verdict, stripAuthorization: services.stripAuthorization, allocator: context.channel.allocator)
        writeAnswer(stream, framed: message, context: context)
    }

    /// `grpc.health.v1.Health`: SERVING for the server as a whole ("") and its services while it
    /// runs, NOT_SERVING once it drains; any other service is NOT_FOUND (Check) or SERVICE_UNKNOWN (Watch).
    /// A watch stays open until the server drains, then says NOT_SERVING and ends.
    private func health(_ stream: HTTP2StreamID, _ method: GRPCMethod, _ message: ByteBuffer, context: ChannelHandlerContext) {
        guard let service = HealthService.service(in: message) else {
            refuseAnswering(stream, GRPCStatus(.invalidArgument, "the HealthCheckRequest is not a valid message"), context: context)
            return
        }
        let known = HealthService.served.contains(service)
        let draining = services.isDraining || state.isDraining
        let allocator = context.channel.allocator
        if method == .healthCheck {
            guard known else {
                refuseAnswering(stream, GRPCStatus(.notFound, "unknown service"), context: context)
                return
            }
            guard state.answerReady(stream, now: context.eventLoop.now) == .write else { return }
            writeAnswer(stream, framed: HealthService.framedResponse(draining ? .notServing : .serving, allocator: allocator), context: context)
            return
        }
        guard state.watchStarted(stream, known: known) == .write else { return }
        let status: HealthService.Status = known ? (draining ? .notServing : .serving) : .serviceUnknown
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: GRPCResponseHeaders.headers)))), promise: nil)
        let first = HealthService.framedResponse(status, allocator: allocator)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(first))))), promise: nil)
        if state.isDraining {
            // Already draining: nothing more will come, the call ends now.
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: GRPCResponseHeaders.ok, endStream: true)))),
                promise: nil)
        }
        flushSoon(context: context)
    }

    /// A dispatched call refused after all (its message could not be read, an unknown service).
    private func refuseAnswering(_ stream: HTTP2StreamID, _ status: GRPCStatus, context: ChannelHandlerContext) {
        guard state.answerReady(stream, now: context.eventLoop.now) == .write else { return }
        writeRefusal(stream, .status(status), reset: false, context: context)
    }
}
