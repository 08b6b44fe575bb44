import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP2
import VetoStore

@testable import VetoGRPC
@testable import VetoServer

/// The gRPC server's shared parts on a data plane with a real embedded blocklist and no issuer, so
/// every token is refused by the engine itself: the handler tests are about framing and calls.
enum TestServices {
    static func make(_ settings: GRPCSettings = GRPCSettings()) async throws -> GRPCServices {
        let directory = NSTemporaryDirectory() + "veto-grpc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let blocklist = try await EmbeddedBlocklist.open(directory: directory)
        let engine = CheckEngine(.init(issuers: [], blocklist: blocklist, clock: { Date().timeIntervalSince1970 }, digest: { _ in "" }))
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let plane = DataPlane(
            engine: engine, responder: CheckResponder(retryAfter: 1), blocklist: blocklist, metrics: ServiceMetrics(), logger: logger,
            limits: Limits())
        return GRPCServices(gate: GatewayCheck(plane: plane), stripAuthorization: true, settings: settings, logger: logger)
    }

    /// An active EmbeddedChannel with only the connection handler: HTTP/2 frames in, frames out.
    static func channel(_ services: GRPCServices) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(GRPCConnectionHandler(services: services, now: channel.eventLoop.now))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }
}

extension EmbeddedChannel {
    /// Closes the channel (if the test did not) and drops the timers still scheduled, so the channel,
    /// its pipeline and the handler are freed (LeakSanitizer, Scripts/test-asan).
    func tearDown() {
        close(promise: nil)
        embeddedEventLoop.run()
        try? embeddedEventLoop.syncShutdownGracefully()
    }

    /// Every frame written so far.
    func writtenFrames() throws -> [HTTP2Frame] {
        var frames: [HTTP2Frame] = []
        while let frame = try readOutbound(as: HTTP2Frame.self) { frames.append(frame) }
        return frames
    }
}
