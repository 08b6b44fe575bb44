import CoreMetrics
import NIOCore
import VetoCore

/// A check asked through another front door than `/v1/check`: the gRPC ext_authz server (VetoGRPC).
/// Same bearer parser, engine, verification cache, blocklist, metrics (route="grpc_check") and logs as
/// the data plane; the answer comes as its parts (status, headers, body) rendered by the same code as
/// the HTTP answer, instead of HTTP/1 bytes.
package struct GatewayCheck: Sendable {
    let plane: DataPlane

    init(plane: DataPlane) {
        self.plane = plane
    }

    /// Checks the bearer token of an `Authorization` header value (nil: the request had none).
    /// - Parameter then: called exactly once, on `eventLoop`.
    /// - Important: call it on `eventLoop`: the verification cache is per loop and only read on its
    ///   own thread, so a check from elsewhere verifies the token again every time.
    package func check(authorization: String?, on eventLoop: any EventLoop, then: @escaping @Sendable (GatewayVerdict) -> Void) {
        let started = NIODeadline.now()
        let token: [UInt8]
        switch authorization.map(plane.bearerToken(authorization:)) ?? .failure(DataPlane.noToken) {
        case let .failure(failure):
            plane.record(.check, door: .grpc, outcome: "denied", failure: failure, facts: .none, started: started)
            then(GatewayVerdict(CheckResponder.denied(failure, allocator: Self.allocator), decision: .denied))
            return
        case let .success(value):
            token = value
        }
        plane.engine.check(token, on: eventLoop) { outcome in
            plane.record(outcome, door: .grpc, started: started)
            switch outcome {
            case let .allowed(verified, degraded):
                let identity = GatewayVerdict.Identity(
                    subject: verified.subject, issuer: verified.issuer, jwtID: verified.revocationID, expiresAt: verified.expiresAt)
                then(GatewayVerdict(verified.answer.response(degraded: degraded, allocator: Self.allocator), decision: .allowed, identity: identity))
            case .denied:
                then(GatewayVerdict(plane.response(for: outcome, allocator: Self.allocator), decision: .denied))
            case .unavailable:
                then(GatewayVerdict(plane.response(for: outcome, allocator: Self.allocator), decision: .unavailable))
            }
        }
    }

    /// A connection of this front door was closed at once: `limits.max_connections` were open
    /// (veto_connections_refused_total, shared with the HTTP port).
    package func connectionRefused() {
        plane.metrics.connectionsRefused.increment()
    }

    private static let allocator = ByteBufferAllocator()
}
