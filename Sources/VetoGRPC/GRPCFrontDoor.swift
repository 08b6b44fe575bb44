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
    let eventLoopGroup: MultiThreadedEventLoopGroup
    let logger: Logger

    package init(gate: GatewayCheck, address: ListenAddress, stripAuthorization: Bool, eventLoopGroup: MultiThreadedEventLoopGroup, logger: Logger) {
        self.gate = gate
        self.address = address
        self.stripAuthorization = stripAuthorization
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    package func run() async throws {
        // getaddrinfo blocks: off the cooperative pool.
        let address = self.address
        let socketAddress = try await NIOThreadPool.singleton.runIfActive { try Self.socketAddress(address) }
        let transport = HTTP2ServerTransport.Posix(address: socketAddress, transportSecurity: .plaintext, eventLoopGroup: eventLoopGroup)
        let server = GRPCServer(
            transport: transport,
            services: [
                AuthorizationService(gate: gate, eventLoopGroup: eventLoopGroup, stripAuthorization: stripAuthorization), HealthService()
            ])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let bound = try await transport.listeningAddress
                let port = bound.ipv4?.port ?? bound.ipv6?.port ?? address.port
                logger.notice(
                    "gRPC ext_authz listening on \(ListenAddress(host: address.host, port: port)) (h2c)",
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
