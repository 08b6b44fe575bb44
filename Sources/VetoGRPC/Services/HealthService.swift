import GRPCCore
import ServiceLifecycle

/// `grpc.health.v1.Health`: SERVING for the server as a whole ("") and for the authorization service,
/// while the server runs; NOT_SERVING once it drains. Any other service name is NOT_FOUND (Check) or
/// SERVICE_UNKNOWN (Watch), as the protocol says.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    static let served: Set<String> = ["", "envoy.service.auth.v3.Authorization", "grpc.health.v1.Health"]

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard Self.served.contains(request.service) else { throw RPCError(code: .notFound, message: "unknown service") }
        return Self.status(Task.isShuttingDownGracefully ? .notServing : .serving)
    }

    /// The status now, then NOT_SERVING when the server starts draining; the call then ends.
    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        guard Self.served.contains(request.service) else {
            try await response.write(Self.status(.serviceUnknown))
            try? await gracefulShutdown()
            return
        }
        try await response.write(Self.status(Task.isShuttingDownGracefully ? .notServing : .serving))
        // Returns when the service group drains, throws when the call is cancelled (the client left).
        try await gracefulShutdown()
        try await response.write(Self.status(.notServing))
    }

    private static func status(_ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus) -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }
}
