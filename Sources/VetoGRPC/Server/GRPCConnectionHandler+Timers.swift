import Logging
import NIOCore
import NIOHTTP2

extension GRPCConnectionHandler {
    /// Graceful shutdown (the service group drains): GOAWAY, watches end with NOT_SERVING, calls in
    /// flight are answered, then the connection closes (at the latest after the drain timeout).
    func drain(context: ChannelHandlerContext) {
        guard case let .goAway(lastStreamID, watches, close) = state.drain() else { return }
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))),
            promise: nil)
        for watch in watches {
            if watch.known {
                let message = HealthService.framedResponse(.notServing, allocator: context.channel.allocator)
                context.write(wrapOutboundOut(HTTP2Frame(streamID: watch.stream, payload: .data(.init(data: .byteBuffer(message))))), promise: nil)
            }
            context.write(
                wrapOutboundOut(HTTP2Frame(streamID: watch.stream, payload: .headers(.init(headers: GRPCResponseHeaders.ok, endStream: true)))),
                promise: nil)
        }
        context.flush()
        if close {
            closeSoon(context: context)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        drainTimer = context.eventLoop.scheduleTask(in: services.settings.drainTimeout) {
            let (handler, context) = bound.value
            handler.drainTimer = nil
            handler.services.logger.debug("gRPC calls still in flight after the drain timeout; closing the connection")
            context.close(promise: nil)
        }
    }

    func closeSoon(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            bound.value.flush()
            bound.value.close(promise: nil)
        }
    }

    func cancelTimers() {
        idleTimer?.cancel()
        idleTimer = nil
        requestTimer?.cancel()
        requestTimer = nil
        drainTimer?.cancel()
        drainTimer = nil
    }

    /// Checks for idleness; rescheduled only when it fires, so traffic costs no timer work.
    func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.idleTimer = nil
            guard context.channel.isActive else { return }
            switch handler.state.idleCheck(now: context.eventLoop.now, timeout: handler.services.settings.idleTimeout) {
            case let .close(lastStreamID):
                let goAway = HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
                context.writeAndFlush(handler.wrapOutboundOut(goAway), promise: nil)
                handler.closeSoon(context: context)
            case let .checkAgain(at):
                handler.scheduleIdleCheck(context: context, at: at)
            }
        }
    }

    /// Armed only while a call's message is still arriving after a read: most arrive whole in one.
    func armRequestTimer(context: ChannelHandlerContext) {
        guard requestTimer == nil, let oldest = state.oldestIncomplete else { return }
        let timeout = services.settings.requestTimeout
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        requestTimer = context.eventLoop.scheduleTask(deadline: oldest + timeout) {
            let (handler, context) = bound.value
            handler.requestTimer = nil
            guard context.channel.isActive else { return }
            let late = handler.state.requestsTimedOut(before: context.eventLoop.now - timeout)
            let status = GRPCStatus(.deadlineExceeded, "the request did not arrive within \(timeout.nanoseconds / 1_000_000) ms")
            for stream in late { handler.writeRefusal(stream, .status(status), reset: true, context: context) }
            // Their bytes no longer hold the connection window: a client waiting for it may go on.
            if handler.grantWindow(context: context) { handler.flushSoon(context: context) }
            handler.armRequestTimer(context: context)
        }
    }
}
