import NIOCore
import NIOSSL

/// Parses RESP from the socket with hiredis and hands each reply, in order, to its connection.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: RedisConnection
    private let parser: RESPParser
    /// Why the channel is being closed by this side, reported once it is inactive.
    private var failure: RedisError?

    private let tls: RedisTLSContext?

    init(connection: RedisConnection, maxReplyBytes: Int, tls: RedisTLSContext? = nil) {
        self.connection = connection
        self.parser = RESPParser(maxBufferedBytes: maxReplyBytes)
        self.tls = tls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        let buffer = unwrapInboundIn(data)
        connection.readEvent(from: context.channel)
        do throws(RedisError) {
            try parser.feed(buffer)
            while let reply = try parser.next() {
                connection.received(reply, from: context.channel)
            }
        } catch {
            failure = error
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed(context.channel, error: failure)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil {
            if let tls, error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
                let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
                failure = tls.describe(error, endpoint: connection.configuration.endpoint, peer: peer)
            } else {
                failure = RedisError(.unavailable, "connection to Redis at \(connection.configuration.endpoint) failed: \(error)")
            }
        }
        context.close(promise: nil)
    }
}
