import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import VetoServer

/// Veto's gRPC server (h2c): `envoy.service.auth.v3.Authorization` and `grpc.health.v1.Health`, as a
/// service of the application's service group, so it starts and drains with the HTTP server.
package struct GRPCFrontDoor: Service {
    let gate: GatewayCheck
    let address: ListenAddress
    let stripAuthorization: Bool
    /// TLS instead of h2c.
    let tls: TLSFiles?
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
        gate: GatewayCheck, address: ListenAddress, stripAuthorization: Bool, tls: TLSFiles? = nil, eventLoopGroup: MultiThreadedEventLoopGroup,
        logger: Logger
    ) {
        self.gate = gate
        self.address = address
        self.stripAuthorization = stripAuthorization
        self.tls = tls
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    package func run() async throws {
        // getaddrinfo blocks: off the cooperative pool.
        let address = self.address
        let socketAddress = try await NIOThreadPool.singleton.runIfActive { try Self.socketAddress(address) }
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            tls.map { files in
                .tls(certificateChain: [.file(path: files.certificateChain, format: .pem)], privateKey: .file(path: files.privateKey, format: .pem))
            } ?? .plaintext
        let transport = HTTP2ServerTransport.Posix(address: socketAddress, transportSecurity: security, eventLoopGroup: eventLoopGroup)
        let server = GRPCServer(
            transport: transport,
            services: [
                AuthorizationService(gate: gate, eventLoopGroup: eventLoopGroup, stripAuthorization: stripAuthorization), HealthService()
            ])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                // No address means serve() failed (a port in use, an unreadable certificate): its error is the one to report.
                guard let bound = try? await transport.listeningAddress else { return }
                let port = bound.ipv4?.port ?? bound.ipv6?.port ?? address.port
                logger.notice(
                    "gRPC ext_authz listening on \(ListenAddress(host: address.host, port: port)) (\(tls == nil ? "h2c" : "TLS"))",
                    metadata: ["services": "envoy.service.auth.v3.Authorization, grpc.health.v1.Health"])
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }

    /// The listen address as gRPC's transport takes it: an IP literal, so a host name is resolved here.
    static func socketAddress(_ address: ListenAddress) throws -> GRPCNIOTransportCore.SocketAddress {
        let resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
        switch resolved {
        case .v6: return .ipv6(host: resolved.ipAddress ?? "::1", port: address.port)
        default: return .ipv4(host: resolved.ipAddress ?? "127.0.0.1", port: address.port)
        }
    }
}
