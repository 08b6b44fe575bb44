import HTTPTypes
import NIOCore
import VetoCore

/// Turns check outcomes into HTTP answers: exactly 200 to allow (Envoy requires it), 401 with an
/// RFC 6750 challenge to deny, 503 with `Retry-After` when the store is down.
struct CheckResponder: Sendable {
    let issuers: [IssuerRuntime]
    let identityHeaderBudget: Int
    let retryAfter: Int

    static let subjectHeader = HTTPField.Name("X-Auth-Subject")!
    static let issuerHeader = HTTPField.Name("X-Auth-Issuer")!
    static let jtiHeader = HTTPField.Name("X-Auth-Jti")!
    static let expiresHeader = HTTPField.Name("X-Auth-Expires")!
    static let errorHeader = HTTPField.Name("X-Veto-Error")!
    static let degradedHeader = HTTPField.Name("X-Veto-Degraded")!
    static let droppedHeader = HTTPField.Name("X-Veto-Headers-Dropped")!

    func response(for outcome: CheckOutcome, allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        switch outcome {
        case let .allowed(token, degraded):
            return allowed(token, degraded: degraded, allocator: allocator)
        case let .denied(failure, _):
            return Self.denied(failure, allocator: allocator)
        case .unavailable:
            return unavailable(allocator: allocator)
        }
    }

    func allowed(_ token: VerifiedToken, degraded: Bool, allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        var fields = HTTPFields()
        fields.reserveCapacity(10)
        let claims = token.claims
        var budget = identityHeaderBudget
        func add(_ name: HTTPField.Name, _ value: String) -> Bool {
            let cost = name.rawName.utf8.count + value.utf8.count + 4
            guard cost <= budget else { return false }
            budget -= cost
            fields.append(HTTPField(name: name, value: value))
            return true
        }
        // The four identity headers are always sent, empty when the claim is absent: gateways that
        // copy only the headers present (Caddy's copy_headers, Envoy's allowed_upstream_headers)
        // would otherwise leave a client's forged X-Auth-Subject, or a placeholder, in place.
        // They are sent whatever the budget (the budget is for mapped claims): dropping one would let
        // a forged value through. Their size is bounded anyway: sub and jti are at most 512 bytes.
        for (name, value) in [(Self.subjectHeader, claims.subject ?? ""), (Self.issuerHeader, token.issuer),
                              (Self.jtiHeader, token.revocationID), (Self.expiresHeader, claims.expiresAt.map(Self.integer) ?? "")] {
            budget -= name.rawName.utf8.count + value.utf8.count + 4
            fields.append(HTTPField(name: name, value: value))
        }
        var dropped: [String] = []
        for mapping in issuers[token.issuerIndex].claimHeaders {
            guard let value = claims.object[mapping.claim], let text = Self.headerValue(value) else { continue }
            if !add(mapping.name, text) { dropped.append(mapping.name.rawName) }
        }
        if !dropped.isEmpty { fields.append(HTTPField(name: Self.droppedHeader, value: dropped.joined(separator: ","))) }
        if degraded { fields.append(HTTPField(name: Self.degradedHeader, value: "store_unavailable")) }

        var body = JSONObject()
        body["active"] = .bool(true)
        body["iss"] = .string(token.issuer)
        if let subject = claims.subject { body["sub"] = .string(subject) }
        body["jti"] = .string(token.revocationID)
        if let exp = claims.expiresAt { body["exp"] = .number(JSONNumber(Int64(exp.rounded(.down)))) }
        if degraded { body["degraded"] = .string("store_unavailable") }
        return (Self.json(.ok, fields: fields), allocator.buffer(string: JSONWriter.compact(.object(body))))
    }

    static func denied(_ failure: ValidationFailure, allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        var fields = HTTPFields()
        if failure.code == .missingToken {
            fields[.wwwAuthenticate] = #"Bearer realm="veto""#
        } else {
            fields[.wwwAuthenticate] = #"Bearer realm="veto", error="invalid_token", error_description=""# + challengeText(failure) + "\""
        }
        fields.append(HTTPField(name: errorHeader, value: failure.code.rawValue))
        return (json(.unauthorized, fields: fields), allocator.buffer(string: errorBody(failure.code.rawValue, failure.message)))
    }

    func unavailable(allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        var fields = HTTPFields()
        fields[.retryAfter] = String(retryAfter)
        fields.append(HTTPField(name: Self.errorHeader, value: ReasonCode.storeUnavailable.rawValue))
        let message = "The blocklist cannot be read, so Veto cannot tell whether the token was revoked; refusing (fail closed). Retry shortly."
        return (Self.json(.serviceUnavailable, fields: fields), allocator.buffer(string: Self.errorBody(ReasonCode.storeUnavailable.rawValue, message)))
    }

    static func errorBody(_ code: String, _ message: String) -> String {
        var body = JSONObject()
        body["active"] = .bool(false)
        body["error"] = .string(code)
        body["message"] = .string(message)
        return JSONWriter.compact(.object(body))
    }

    static func json(_ status: HTTPResponse.Status, fields: HTTPFields) -> HTTPResponse {
        var fields = fields
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        return HTTPResponse(status: status, headerFields: fields)
    }

    /// `error_description` allows only printable ASCII without `"` and `\` (RFC 6750 §3).
    static func challengeText(_ failure: ValidationFailure) -> String {
        var text = ""
        text.reserveCapacity(failure.message.utf8.count)
        for scalar in failure.message.unicodeScalars {
            switch scalar.value {
            case 0x22: text.append("'")
            case 0x5C: text.append("/")
            case 0x20...0x7E: text.unicodeScalars.append(scalar)
            default: text.append("?")
            }
        }
        return text
    }

    static func integer(_ value: Double) -> String {
        String(Int64(value.rounded(.down)))
    }

    /// A claim as a header value: strings as they are, numbers as written, arrays of strings
    /// comma-joined, anything else as compact JSON. Control characters never reach a header.
    static func headerValue(_ value: JSONValue) -> String? {
        let text: String
        switch value {
        case let .string(string): text = string
        case let .number(number): text = number.text
        case let .bool(flag): text = flag ? "true" : "false"
        case .null: return nil
        case let .array(elements) where elements.allSatisfy({ $0.stringValue != nil }):
            text = elements.compactMap(\.stringValue).joined(separator: ",")
        default: text = JSONWriter.compact(value)
        }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }
}

extension CheckResponder {
    static func tooLarge(limit: Int, allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        (json(.contentTooLarge, fields: [:]), allocator.buffer(string: errorBody("body_too_large", "The request body is over the limit of \(limit) bytes.")))
    }

    static func requestTimeout(allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        (json(.requestTimeout, fields: [:]), allocator.buffer(string: errorBody("request_timeout", "The request did not arrive in time.")))
    }

    static func internalError(allocator: ByteBufferAllocator) -> (HTTPResponse, ByteBuffer) {
        (json(.internalServerError, fields: [:]), allocator.buffer(string: errorBody("internal_error", "Veto could not answer this request; see its log.")))
    }
}
