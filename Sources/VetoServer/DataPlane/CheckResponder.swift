import HTTPTypes
import NIOCore
import VetoCore

/// The data plane's refusals as HTTP answers: 401 with an RFC 6750 challenge to deny, 503 with
/// `Retry-After` when the store is down, and the framing errors (413, 408, 500). An allow is exactly
/// 200 (Envoy requires it), rendered once by `AllowedAnswer` when the token is verified.
struct CheckResponder: Sendable {
    let retryAfter: Int

    static func denied(_ failure: ValidationFailure, allocator: ByteBufferAllocator) -> WireResponse {
        var head = allocator.buffer(capacity: 256)
        if failure.code == .missingToken {
            head.writeStaticString("WWW-Authenticate: Bearer realm=\"veto\"\r\n")
        } else {
            WireResponse.appendHeader(
                "WWW-Authenticate", #"Bearer realm="veto", error="invalid_token", error_description=""# + challengeText(failure) + "\"", into: &head)
        }
        WireResponse.appendHeader(HTTPField.Name.vetoError.rawName, failure.code.rawValue, into: &head)
        head.writeStaticString("Content-Type: application/json\r\nCache-Control: no-store\r\n")
        return WireResponse(
            status: .unauthorized, headerLines: head, body: allocator.buffer(string: errorBody(failure.code.rawValue, failure.message)))
    }

    func unavailable(allocator: ByteBufferAllocator) -> WireResponse {
        var head = allocator.buffer(capacity: 128)
        WireResponse.appendHeader("Retry-After", String(retryAfter), into: &head)
        WireResponse.appendHeader(HTTPField.Name.vetoError.rawName, ReasonCode.storeUnavailable.rawValue, into: &head)
        head.writeStaticString("Content-Type: application/json\r\nCache-Control: no-store\r\n")
        let message = "The blocklist cannot be read, so Veto cannot tell whether the token was revoked; refusing (fail closed). Retry shortly."
        return WireResponse(
            status: .serviceUnavailable, headerLines: head,
            body: allocator.buffer(string: Self.errorBody(ReasonCode.storeUnavailable.rawValue, message)))
    }

    static func errorBody(_ code: String, _ message: String) -> String {
        var body = JSONObject()
        body["active"] = .bool(false)
        body["error"] = .string(code)
        body["message"] = .string(message)
        return JSONWriter.compact(.object(body))
    }

    /// A JSON answer with no identity headers.
    static func json(_ status: HTTPResponse.Status, body: String, allocator: ByteBufferAllocator) -> WireResponse {
        var head = allocator.buffer(capacity: 64)
        head.writeStaticString("Content-Type: application/json\r\nCache-Control: no-store\r\n")
        return WireResponse(status: status, headerLines: head, body: allocator.buffer(string: body))
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
}

extension CheckResponder {
    static func tooLarge(limit: Int, allocator: ByteBufferAllocator) -> WireResponse {
        json(.contentTooLarge, body: errorBody("body_too_large", "The request body is over the limit of \(limit) bytes."), allocator: allocator)
    }

    static func requestTimeout(allocator: ByteBufferAllocator) -> WireResponse {
        json(.requestTimeout, body: errorBody("request_timeout", "The request did not arrive in time."), allocator: allocator)
    }

    static func internalError(allocator: ByteBufferAllocator) -> WireResponse {
        json(.internalServerError, body: errorBody("internal_error", "Veto could not answer this request; see its log."), allocator: allocator)
    }
}
