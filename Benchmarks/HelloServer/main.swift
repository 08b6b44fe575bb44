// The HTTP ceiling for Scripts/bench: the least a SwiftNIO HTTP/1 server can do per request on one
// event loop (a synchronous handler answering 200 with a two-byte body). It is part of the benchmark,
// not of Veto: the `veto` executable does not depend on this target.
//
// Usage: veto-bench-hello [PORT]   (listens on 127.0.0.1, one event loop, prints "listening PORT")
import NIOCore
import NIOHTTP1
import NIOPosix

final class HelloHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var keepAlive = true
    private let body: ByteBuffer
    private let head: HTTPResponseHead

    init(allocator: ByteBufferAllocator) {
        body = allocator.buffer(string: "ok")
        head = HTTPResponseHead(
            version: .http1_1, status: .ok,
            headers: ["Content-Length": "2", "Content-Type": "text/plain"])
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request):
            keepAlive = request.isKeepAlive
        case .body:
            break
        case .end:
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 8090 : 8090
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(HelloHandler(allocator: channel.allocator))
        }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
print("listening \(channel.localAddress?.port ?? port)")
try channel.closeFuture.wait()
