import CoreMetrics
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Veto's HTTP/1 connection: Hummingbird's `HTTP1Channel` with the data plane in front of the
/// HTTPTypes codec. The whole pipeline is built here, in one function, in this order:
///
///     socket ⇄ request decoder ⇄ response encoder ⇄ DataPlaneHandler ⇄ HTTPTypes codec
///            ⇄ HTTPConnectionStateHandler ⇄ NIOAsyncChannel (Hummingbird's request loop, the control plane)
///
/// The decoder and encoder are deliberately not paired (NIO's `configureHTTPServerPipeline` pairs
/// them): paired, the decoder queues every request's method in the encoder and the encoder takes one
/// off per response head it encodes. Data-plane answers are written as finished bytes past the
/// encoder, so their methods were never taken off: the queue grew by one entry per check for the life
/// of a keep-alive connection, and a control-plane answer after a HEAD check lost its body. Unpaired,
/// the encoder frames by status alone, and `DataPlaneHandler` handles HEAD for both planes.
struct VetoHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// What every connection shares, built once at start-up.
    struct Settings: Sendable {
        let plane: DataPlane
        /// Counts open connections across the whole server (`limits.max_connections`).
        let connections: ConnectionLimit
        let idleTimeout: TimeAmount
        let decoderLimits: NIOHTTPDecoderLimitConfiguration

        init(plane: DataPlane, limits: Limits) {
            self.plane = plane
            self.connections = ConnectionLimit(maximum: limits.maxConnections)
            self.idleTimeout = .milliseconds(Int64(limits.idleTimeout * 1000))
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderFieldCount = 100
            self.decoderLimits = decoderLimits
        }
    }

    let responder: HTTPChannelHandler.Responder
    let settings: Settings

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try Self.addHandlers(to: channel, settings: settings, logger: logger)
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }

    /// Builds the pipeline described above, up to (not including) the async channel; the tests build
    /// theirs with it too.
    static func addHandlers(to channel: any Channel, settings: Settings, logger: Logger) throws {
        if settings.connections.admit() {
            let connections = settings.connections
            channel.closeFuture.whenComplete { _ in connections.release() }
        } else {
            // Over limits.max_connections: accepted, then closed before anything is read (a close from
            // inside the pipeline's initialisation is lost, so it runs right after).
            settings.plane.metrics.connectionsRefused.increment()
            channel.eventLoop.execute { channel.close(promise: nil) }
        }
        let pipeline = channel.pipeline.syncOperations
        let encoder = HTTPResponseEncoder(configuration: .init())
        try pipeline.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: settings.decoderLimits)))
        try pipeline.addHandler(encoder)
        let wire = try pipeline.context(handler: encoder)
        try pipeline.addHandler(
            DataPlaneHandler(
                plane: settings.plane, idleTimeout: settings.idleTimeout, wire: wire,
                now: channel.eventLoop.now))
        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        // No idle timeout here: DataPlaneHandler closes idle connections (it sees both planes).
        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
    }
}
