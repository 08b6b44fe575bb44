import HTTPTypes
import NIOCore
import VetoCore

/// The answer to a check that allows a token, rendered once when the token is verified: the
/// identity headers and the JSON body. The verification cache keeps it, so a warm check writes it
/// out without looking at the claims again.
struct AllowedAnswer: Sendable {
    /// Header lines (identity, then `Content-Type` and `Cache-Control`), then the body: an array of
    /// exactly this size, since the verification cache keeps thousands of them.
    private let bytes: [UInt8]
    /// Bytes of identity header lines at the start of `bytes`.
    private let identityLength: Int
    /// Bytes of all header lines at the start of `bytes`; the body follows.
    private let headerLength: Int

    static let fixedHeaders: StaticString = "Content-Type: application/json\r\nCache-Control: no-store\r\n"

    /// The answer as written: 200 with the headers and body, or with `X-Veto-Degraded` when the
    /// store was down and fail-open let the token through. `maxAge` > 0 (`--cache-hint`) lets a gateway
    /// cache it: `Cache-Control: private, max-age=N`, after `X-Accel-Expires: N`, which nginx's
    /// `proxy_cache` reads first and which is the only way it stores a `private` answer.
    func response(degraded: Bool, maxAge: Int = 0, allocator: ByteBufferAllocator) -> WireResponse {
        if maxAge > 0, !degraded {
            var head = allocator.buffer(capacity: headerLength + 80)
            head.writeBytes(bytes[..<identityLength])
            head.writeString("Content-Type: application/json\r\nX-Accel-Expires: \(maxAge)\r\nCache-Control: private, max-age=\(maxAge)\r\n")
            var body = allocator.buffer(capacity: bytes.count - headerLength)
            body.writeBytes(bytes[headerLength...])
            return WireResponse(status: .ok, headerLines: head, body: body)
        }
        guard degraded else { return WireResponse(status: .ok, rendered: bytes, headerLength: headerLength) }
        var head = allocator.buffer(capacity: headerLength + 64)
        head.writeBytes(bytes[..<identityLength])
        head.writeStaticString("X-Veto-Degraded: store_unavailable\r\n")
        head.writeStaticString(Self.fixedHeaders)
        var body = allocator.buffer(capacity: bytes.count - headerLength + 32)
        body.writeBytes(bytes[headerLength..<(bytes.count - 1)])  // without the closing brace
        body.writeStaticString(",\"degraded\":\"store_unavailable\"}")
        return WireResponse(status: .ok, headerLines: head, body: body)
    }

    /// Renders the answer for a verified token: `X-Auth-Subject`, `-Issuer`, `-Jti`, `-Expires`
    /// always, the configured claim headers within the identity-header budget, and
    /// `{"active":true,"iss":…,"sub":…,"jti":…,"exp":…}`.
    init(
        issuer: String, revocationID: String, claims: JWTClaims, claimHeaders: [(name: HTTPField.Name, claim: String)],
        budget: Int, allocator: ByteBufferAllocator
    ) {
        var out = [UInt8]()
        out.reserveCapacity(384)
        var budget = budget
        func add(_ name: HTTPField.Name, _ value: String) -> Bool {
            let cost = name.rawName.utf8.count + value.utf8.count + 4
            guard cost <= budget else { return false }
            budget -= cost
            WireResponse.appendHeader(name.rawName, value, into: &out)
            return true
        }
        let expires = claims.expiresAt.map(Self.integer)
        // The four identity headers are always sent, empty when the claim is absent: gateways that
        // copy only the headers present (Caddy's copy_headers, Envoy's allowed_upstream_headers)
        // would otherwise leave a client's forged X-Auth-Subject, or a placeholder, in place.
        // They are sent whatever the budget (the budget is for mapped claims): dropping one would let
        // a forged value through. Their size is bounded anyway: sub and jti are at most 512 bytes.
        for (name, value) in [
            (HTTPField.Name.authSubject, claims.subject ?? ""), (HTTPField.Name.authIssuer, issuer),
            (HTTPField.Name.authJti, revocationID), (HTTPField.Name.authExpires, expires ?? "")
        ] {
            budget -= name.rawName.utf8.count + value.utf8.count + 4
            WireResponse.appendHeader(name.rawName, value, into: &out)
        }
        if !claimHeaders.isEmpty {
            var dropped: [String] = []
            for mapping in claimHeaders {
                guard let value = claims.object[mapping.claim], let text = Self.headerValue(value) else { continue }
                // A value a header cannot carry byte for byte is dropped, never altered: "admin " must
                // not reach the upstream as "admin".
                if !WireResponse.isLegalValue(text) || !add(mapping.name, text) { dropped.append(mapping.name.rawName) }
            }
            if !dropped.isEmpty { WireResponse.appendHeader(HTTPField.Name.vetoHeadersDropped.rawName, dropped.joined(separator: ","), into: &out) }
        }
        identityLength = out.count
        Self.append(Self.fixedHeaders, to: &out)
        headerLength = out.count
        Self.append("{\"active\":true,\"iss\":", to: &out)
        WireResponse.appendJSONString(issuer, into: &out)
        if let subject = claims.subject {
            Self.append(",\"sub\":", to: &out)
            WireResponse.appendJSONString(subject, into: &out)
        }
        Self.append(",\"jti\":", to: &out)
        WireResponse.appendJSONString(revocationID, into: &out)
        if let expires {
            Self.append(",\"exp\":", to: &out)
            out.append(contentsOf: expires.utf8)
        }
        out.append(UInt8(ascii: "}"))
        bytes = out.count * 5 < out.capacity * 4 ? Array(out[...]) : out  // kept while cached: no large spare capacity
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    static func integer(_ value: Double) -> String {
        String(Int64(value.rounded(.down)))
    }

    /// A claim as a header value: strings as they are, numbers as written, arrays of strings
    /// comma-joined, anything else as compact JSON. Returned unaltered: `AllowedAnswer` drops a value
    /// a header cannot carry byte for byte (control characters, blanks at either end).
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
        // As is: a value a header cannot carry unaltered is dropped by the caller, never rewritten.
        return text
    }
}
