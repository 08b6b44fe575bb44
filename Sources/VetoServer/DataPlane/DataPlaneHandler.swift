import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers `/v1/check` and `POST /v1/revoke` on the event loop, in front of Hummingbird.
///
/// It sits after HTTP decoding in Hummingbird's HTTP/1 pipeline. Data-plane requests are answered
/// here with no Task per request; every other request is passed on to the control plane.
/// HTTP/1 pipelining is respected: requests on one connection are answered strictly in order,
/// so a request waits while an earlier one (of either plane) is still being answered.
///
/// Data-plane answers are written as finished HTTP/1.1 bytes (`WireResponse`) from the position of
/// NIO's HTTP/1 response encoder, so they skip the HTTPTypes conversion and the encoder; the control
/// plane's answers take the usual way. Both go through one ordered outbound path, and a data-plane
/// answer is only written when no control-plane answer is unfinished.
final class DataPlaneHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private struct Exchange {
        /// nil: forwarded to the control plane.
        let route: DataPlane.Route?
        let head: HTTPRequest
        var body: ByteBuffer?
        var bodyTooLarge = false
        /// The request's `.end` has arrived.
        var complete = false
        /// Parts of a forwarded request that arrived while an earlier exchange was in progress.
        var buffered: [HTTPRequestPart] = []
        /// Answering has begun (local) or its parts are flowing to the control plane (forwarded).
        var started = false
        /// The control plane has written this exchange's `.end`.
        var responded = false
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

    init(plane: DataPlane) {
        self.plane = plane
    }

    func handlerAdded(context: ChannelHandlerContext) {
        wireContext = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        if wireContext == nil {
            // Hummingbird always puts NIO's encoder before this handler; without it answers cannot be written.
            plane.logger.critical("no HTTP/1 response encoder in the channel pipeline; closing the connection")
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case let .head(request):
            let route = DataPlane.route(request)
            var exchange = Exchange(route: route, head: request)
            if route != nil && bodyDeadline == nil {
                // A client that sends a head and then trickles its body must not hold a slot forever.
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                bodyDeadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(plane.limits.requestTimeout * 1000))) {
                    let (handler, context) = loopBound.value
                    handler.requestTimedOut(context: context)
                }
            }
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
            if queue[last].route != nil {
                bodyDeadline?.cancel()
                bodyDeadline = nil
            }
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

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the control plane's responses pass through here; ours are written below this handler.
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data), !queue.isEmpty, queue[queue.startIndex].route == nil else { return }
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
        if event is ChannelShouldQuiesceEvent, queue.contains(where: { $0.route != nil }) {
            // Graceful shutdown: answer the data-plane requests in flight before the connection closes.
            quiescePending = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func requestTimedOut(context: ChannelHandlerContext) {
        bodyDeadline = nil
        guard let index = queue.firstIndex(where: { $0.route != nil && !$0.complete }) else { return }
        plane.logger.info("request timed out before its body arrived; closing the connection")
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
        wireContext = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        context.fireChannelInactive()
    }

    private func startNext(context: ChannelHandlerContext) {
        guard let first = queue.first else {
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
        guard !first.started else { return }
        queue[queue.startIndex].started = true
        guard let route = first.route else {
            for part in first.buffered { context.fireChannelRead(wrapInboundOut(part)) }
            queue[queue.startIndex].buffered = []
            return
        }
        guard first.complete else {
            queue[queue.startIndex].started = false
            return
        }
        if first.head.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
        if first.bodyTooLarge {
            closeAfterResponse = true
            finish(context: context, CheckResponder.tooLarge(limit: plane.limits.maxBodyBytes, allocator: context.channel.allocator))
            return
        }
        plane.respond(to: route, request: first.head, body: first.body, allocator: context.channel.allocator, on: context.eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case let .success(response):
                    self.finish(context: context, response)
                case .failure:
                    self.finish(context: context, CheckResponder.internalError(allocator: context.channel.allocator))
                }
            }
    }

    private func finish(context: ChannelHandlerContext, _ response: WireResponse) {
        if closeAfterResponse {
            queue.removeAll()
            writeAndClose(context: context, response)
            return
        }
        guard let wireContext else { return }
        wireContext.writeAndFlush(NIOAny(response.serialized(close: false, allocator: context.channel.allocator)), promise: nil)
        if !queue.isEmpty { queue.removeFirst() }
        startNext(context: context)
    }

    private func writeAndClose(context: ChannelHandlerContext, _ response: WireResponse) {
        guard let wireContext else {
            context.close(promise: nil)
            return
        }
        wireContext.writeAndFlush(NIOAny(response.serialized(close: true, allocator: context.channel.allocator)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
