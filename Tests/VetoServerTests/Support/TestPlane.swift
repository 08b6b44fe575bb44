import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import VetoStore

@testable import VetoServer

/// A data plane on a real embedded blocklist (a journal in a temporary directory) and no issuer, so
/// every token is refused by the engine itself: the handler tests are about framing and order.
enum TestPlane {
    static func make(limits: Limits = Limits()) async throws -> (plane: DataPlane, directory: String) {
        let directory = NSTemporaryDirectory() + "veto-dataplane-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let blocklist = try await EmbeddedBlocklist.open(directory: directory)
        let engine = CheckEngine(.init(issuers: [], blocklist: blocklist, clock: { Date().timeIntervalSince1970 }, digest: { _ in "" }))
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let plane = DataPlane(
            engine: engine, responder: CheckResponder(retryAfter: 1), blocklist: blocklist,
            metrics: ServiceMetrics(), logger: logger, limits: limits)
        return (plane, directory)
    }

    /// An active EmbeddedChannel with Veto's HTTP/1 pipeline and, where Hummingbird's request loop
    /// would sit, `ControlPlaneResponder`.
    static func channel(_ plane: DataPlane, limits: Limits, responder: ControlPlaneResponder) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let settings = VetoHTTP1Channel.Settings(plane: plane, limits: limits)
        try VetoHTTP1Channel.addHandlers(to: channel, settings: settings, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try channel.pipeline.syncOperations.addHandler(responder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }
}

/// Answers control-plane requests at the end of the pipeline: `200` with the request's path as the
/// body. With `holding` set it keeps answers until `release()`, like a slow control-plane route.
final class ControlPlaneResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    var holding = false
    private var held: [String] = []
    private var context: ChannelHandlerContext?
    private(set) var seen: [String] = []

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// The context keeps this handler, and this handler the context: let go when the pipeline tears down.
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .head(head) = unwrapInboundIn(data) else { return }
        let path = head.path ?? ""
        seen.append(path)
        if holding { held.append(path) } else { answer(path, context: context) }
    }

    func release() {
        guard let context else { return }
        let paths = held
        held = []
        for path in paths { answer(path, context: context) }
    }

    private func answer(_ path: String, context: ChannelHandlerContext) {
        let body = ByteBuffer(string: "control:\(path)")
        context.write(wrapOutboundOut(.head(.init(status: .ok, headerFields: [.contentLength: String(body.readableBytes)]))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

extension EmbeddedChannel {
    /// Closes the channel (if the test did not) and lets the pipeline tear down, so that the channel,
    /// its pipeline and the handlers are freed: an open EmbeddedChannel and its pipeline keep each other
    /// alive, and LeakSanitizer (Scripts/test-asan) reports them.
    func tearDown() {
        close(promise: nil)
        embeddedEventLoop.run()
        // Timers still scheduled (the quiesce grace, an idle check) hold the handler; drop them.
        try? embeddedEventLoop.syncShutdownGracefully()
    }

    /// Everything written to the socket so far, as text.
    func written() throws -> String {
        var text = ""
        while let buffer = try readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }
}
