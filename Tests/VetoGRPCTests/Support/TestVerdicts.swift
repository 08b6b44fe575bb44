import HTTPTypes
import NIOCore
import Testing
import VetoCore

@testable import VetoServer

/// Verdicts as the data plane renders them: an allow through `AllowedAnswer`, refusals through
/// `CheckResponder`.
enum TestVerdicts {
    static let allocator = ByteBufferAllocator()

    static func allowed(subject: String? = "user_482", exp: Double? = 2_000_000_000.7, degraded: Bool = false) throws -> GatewayVerdict {
        var json = #"{"iss":"https://idp.example","jti":"j-1","scope":"orders:read orders:write""#
        if let subject { json += #","sub":"\#(subject)""# }
        if let exp { json += #","exp":\#(exp)"# }
        json += "}"
        let object = try JSONReader().parseObject(Array(json.utf8))
        let claims = try #require(JWTClaims.parse(object: object).claims)
        let answer = AllowedAnswer(
            issuer: "https://idp.example", revocationID: "j-1", claims: claims,
            claimHeaders: [(HTTPField.Name("X-Auth-Scope")!, "scope"), (HTTPField.Name("X-Auth-Tenant")!, "tenant")], budget: 4096,
            allocator: allocator)
        let identity = GatewayVerdict.Identity(subject: subject, issuer: "https://idp.example", jwtID: "j-1", expiresAt: claims.expiresAt)
        return GatewayVerdict(answer.response(degraded: degraded, allocator: allocator), decision: .allowed, identity: identity)
    }

    static func denied(_ code: ReasonCode = .audienceMismatch, _ message: String = "The token's audience is \"staging\".") -> GatewayVerdict {
        GatewayVerdict(CheckResponder.denied(ValidationFailure(code, .audience, message), allocator: allocator), decision: .denied)
    }

    static func unavailable() -> GatewayVerdict {
        GatewayVerdict(CheckResponder(retryAfter: 2).unavailable(allocator: allocator), decision: .unavailable)
    }
}
