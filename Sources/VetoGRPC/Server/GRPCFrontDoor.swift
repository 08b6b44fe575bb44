import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import ServiceLifecycle
import VetoServer

/// Veto's gRPC server (h2c, or TLS with ALPN h2): `envoy.service.auth.v3.Authorization` and
/// `grpc.health.v1.Health`, as a service of the application's service group, so it starts and
/// drains with the HTTP server. Its connections run on the same event loops as the HTTP data plane.
package struct GRPCFrontDoor: Service {
    let gate: GatewayCheck
    let address: ListenAddress
    let stripAuthorization: Bool
    /// TLS instead of h2c.
    let tls: TLSFiles?
    let settings: GRPCSettings
    let eventLoopGroup: MultiThreadedEventLoopGroup
    let logger: Logger

    /// PEM files: the certificate chain (leaf first) and its private key.
    package struct TLSFiles: Sendable {
        let certificateChain: String
        let privateKey: String

        package init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    package init(
        gate: GatewayCheck, address: ListenAddress, stripAuthorization: Bool, tls: TLSFiles? = nil, settings: GRPCSettings = GRPCSettings(),
        eventLoopGroup: MultiThreadedEventLoopGroup, logger: Logger
    ) {
        self.gate = gate
        self.address = address
        self.stripAuthorization = stripAuthorization
        self.tls = tls
        self.settings = settings
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    package func run() async throws {
        // getaddrinfo and the PEM files block: off the cooperative pool.
        let (address, tls) = (self.address, self.tls)
        let socketAddress = try await NIOThreadPool.singleton.runIfActive {
            try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
        }
        let sslContext = try await NIOThreadPool.singleton.runIfActive { try tls.map(Self.sslContext) }
        let services = GRPCServices(gate: gate, stripAuthorization: stripAuthorization, settings: settings, logger: logger)
        let quiesce = ServerQuiescingHelper(group: eventLoopGroup)
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try GRPCPipeline.addHandlers(to: channel, services: services, tls: sslContext) }
            }
            .bind(to: socketAddress).get()
        let port = channel.localAddress?.port ?? address.port
        logger.notice(
            "gRPC ext_authz listening on \(ListenAddress(host: address.host, port: port)) (\(tls == nil ? "h2c" : "TLS"))",
            metadata: ["services": "envoy.service.auth.v3.Authorization, grpc.health.v1.Health"])
        let drained = channel.eventLoop.makePromise(of: Void.self)
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await drained.futureResult.get()
            } onGracefulShutdown: {
                // Stop accepting, GOAWAY on every connection, and wait for their calls in flight.
                services.beginDraining()
                quiesce.initiateShutdown(promise: drained)
            }
        } onCancel: {
            services.beginDraining()
            quiesce.initiateShutdown(promise: drained)
        }
    }

    /// The server's TLS: the chain and key from PEM files, ALPN offering h2 only.
    static func sslContext(_ files: TLSFiles) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.applicationProtocols = ["h2"]
        return try NIOSSLContext(configuration: configuration)
    }
}
