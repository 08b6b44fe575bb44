import NIOCore
import SwiftProtobuf

/// `grpc.health.v1.Health`'s messages, with the generated types (health checks are rare: a few per
/// second from each gateway). The calls themselves are answered by `GRPCConnectionHandler`.
enum HealthService {
    typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    /// The services health is reported for: the server as a whole ("") and its two services.
    static let served: Set<String> = ["", "envoy.service.auth.v3.Authorization", "grpc.health.v1.Health"]

    /// The service a `HealthCheckRequest` asks about; nil if it is not a valid message.
    static func service(in message: ByteBuffer) -> String? {
        try? Grpc_Health_V1_HealthCheckRequest(serializedBytes: message.readableBytesSpan).service
    }

    /// A `HealthCheckResponse`, with its gRPC prefix.
    static func framedResponse(_ status: Status, allocator: ByteBufferAllocator) -> ByteBuffer {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        let bytes: [UInt8] = (try? response.serializedBytes()) ?? []
        var out = allocator.buffer(capacity: 5 + bytes.count)
        out.writeProtobuf(size: bytes.count, framed: true) { out in bytes.withUnsafeBytes { out.bytes($0) } }
        return out
    }
}
