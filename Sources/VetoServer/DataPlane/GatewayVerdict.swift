import HTTPTypes

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
