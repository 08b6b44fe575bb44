import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 and a free port, standing in for an identity provider.
/// Each path answers as its `Route` says, changeable at any time; every request is counted.
final class JWKSTestServer: Sendable {
    /// How one path answers.
    struct Route: Sendable {
        var status: HTTPResponseStatus = .ok
        var body: [UInt8] = []
        var headers: [(String, String)] = []
        /// Before the response head.
        var delay: TimeAmount = .zero
        /// Between the first byte of the body and the rest.
        var bodyDelay: TimeAmount = .zero
        /// Without `Content-Length`, so the body is sent chunked and its size is known only at the end.
        var chunked = false

        static func json(_ text: String, headers: [(String, String)] = []) -> Route {
            Route(body: Array(text.utf8), headers: headers)
        }
    }

    private let behaviour: Behaviour
    private let serverChannel: any Channel
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(behaviour: Behaviour, serverChannel: any Channel) {
        self.behaviour = behaviour
        self.serverChannel = serverChannel
        self.port = serverChannel.localAddress?.port ?? 0
    }

    static func start(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> JWKSTestServer {
        let behaviour = Behaviour()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                behaviour.connections.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
                channel.closeFuture.whenComplete { _ in
                    _ = behaviour.connections.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return JWKSTestServer(behaviour: behaviour, serverChannel: channel)
    }

    func set(_ path: String, _ route: Route) {
        behaviour.routes.withLockedValue { $0[path] = route }
    }

    func update(_ path: String, _ change: @Sendable (inout Route) -> Void) {
        behaviour.routes.withLockedValue { routes in
            var route = routes[path] ?? Route()
            change(&route)
            routes[path] = route
        }
    }

    /// Requests whose head has arrived for `path`, answered or not.
    func requestCount(_ path: String) -> Int {
        behaviour.counts.withLockedValue { $0[path, default: 0] }
    }

    /// Stops listening and closes every open connection, as a crashed provider would.
    func stop() async {
        try? await serverChannel.close()
        let open = behaviour.connections.withLockedValue { Array($0.values) }
        for channel in open { try? await channel.close() }
    }

    private final class Behaviour: Sendable {
        let routes = NIOLockedValueBox<[String: Route]>([:])
        let counts = NIOLockedValueBox<[String: Int]>([:])
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    }

    private final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let behaviour: Behaviour
        private var path = ""

        init(behaviour: Behaviour) {
            self.behaviour = behaviour
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(head):
                path = String(head.uri.prefix { $0 != "?" })
                behaviour.counts.withLockedValue { $0[path, default: 0] += 1 }
            case .body:
                break
            case .end:
                let route = behaviour.routes.withLockedValue { $0[path] } ?? Route(status: .notFound)
                let loop = context.eventLoop.assumeIsolated()
                if route.delay > .zero {
                    loop.scheduleTask(in: route.delay) { self.respond(context: context, route: route) }
                } else {
                    respond(context: context, route: route)
                }
            }
        }

        private func respond(context: ChannelHandlerContext, route: Route) {
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders(route.headers)
            headers.add(name: "Content-Type", value: "application/json")
            if !route.chunked { headers.add(name: "Content-Length", value: String(route.body.count)) }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: route.status, headers: headers))), promise: nil)
            if route.bodyDelay > .zero, route.body.count > 1 {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: route.body.prefix(1))))), promise: nil)
                context.eventLoop.assumeIsolated().scheduleTask(in: route.bodyDelay) {
                    guard context.channel.isActive else { return }
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: route.body.dropFirst())))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                }
                return
            }
            if !route.body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: route.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
