import HTTPTypes
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
        plane.check(token, door: .grpc, started: started, on: eventLoop) { outcome in
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

    /// The same, awaited.
    package func check(authorization: String?, on eventLoop: any EventLoop) async -> GatewayVerdict {
        await withCheckedContinuation { continuation in
            check(authorization: authorization, on: eventLoop) { continuation.resume(returning: $0) }
        }
    }

    private static let allocator = ByteBufferAllocator()
}

/// A check's answer as parts, for a front door that is not HTTP/1.
package struct GatewayVerdict: Sendable {
    package enum Decision: Sendable, Equatable {
        /// Valid and not revoked (or let through by fail-open, with `X-Veto-Degraded` among the headers).
        case allowed
        /// Refused: 401 with the challenge.
        case denied
        /// The store could not be read: 503, never an allow.
        case unavailable
    }

    package let decision: Decision
    /// 200, 401 or 503: the status `/v1/check` answers with.
    package let status: Int
    /// Allowed: the identity headers for the upstream (`X-Auth-*`, mapped claims). Otherwise: the headers
    /// for the client (`WWW-Authenticate`, `X-Veto-Error`, `Retry-After`). Without `Content-Type` and
    /// `Cache-Control`, which belong to the HTTP answer.
    package let headers: [(name: String, value: String)]
    /// The JSON body `/v1/check` answers with.
    package let body: String
    /// Allowed only: what the gRPC answer's dynamic metadata carries.
    package let identity: Identity?

    package struct Identity: Sendable {
        package let subject: String?
        package let issuer: String
        /// The jti, or `sha256:<hex>` for an issuer that identifies jti-less tokens by digest.
        package let jwtID: String
        package let expiresAt: Double?
    }

    init(_ response: WireResponse, decision: Decision, identity: Identity? = nil) {
        self.decision = decision
        self.status = response.status.code
        let parts = response.parts
        self.headers = parts.fields.filter { field in
            !field.name.utf8.elementsEqual("Content-Type".utf8) && !field.name.utf8.elementsEqual("Cache-Control".utf8)
        }
        self.body = parts.body
        self.identity = identity
    }
}
