import NIOCore
import NIOHTTP2
import NIOSSL
import VetoServer

/// One gRPC connection's pipeline, built in one function (the tests build theirs with it too):
///
///     socket ⇄ [NIOSSLServerHandler (ALPN h2)] ⇄ NIOHTTP2Handler ⇄ GRPCConnectionHandler
///
/// `NIOHTTP2Handler` runs without a stream multiplexer: frames of every stream reach the one
/// connection handler, which keeps each call's state in a dictionary.
enum GRPCPipeline {
    /// - Returns: false when the connection was refused (over `maxConnections`): it is closed at once.
    @discardableResult
    static func addHandlers(to channel: any Channel, services: GRPCServices, tls: NIOSSLContext?) throws -> Bool {
        guard services.connections.admit() else {
            services.gate.connectionRefused()
            // A close from inside the pipeline's initialisation is lost, so it runs right after.
            channel.eventLoop.execute { channel.close(promise: nil) }
            return false
        }
        let connections = services.connections
        channel.closeFuture.whenComplete { _ in connections.release() }
        let pipeline = channel.pipeline.syncOperations
        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
        let http2 = services.settings.http2Configuration
        try pipeline.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: http2.connection, streamConfiguration: http2.stream))
        try pipeline.addHandler(GRPCConnectionHandler(services: services, now: channel.eventLoop.now))
        return true
    }
}
