import Glibc
import HTTPTypes

/// A check's answer as parts, for a front door that is not HTTP/1: the answer `/v1/check` writes,
/// read in place (`withParts`), so a front door can frame it without copying it into strings first.
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
    /// Allowed only: what the gRPC answer's dynamic metadata carries.
    package let identity: Identity?
    private let response: WireResponse

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
        self.response = response
        self.identity = identity
    }

    /// Calls `body` with the headers and the JSON body `/v1/check` answers with. Allowed: the identity
    /// headers for the upstream (`X-Auth-*`, mapped claims). Otherwise: the headers for the client
    /// (`WWW-Authenticate`, `X-Veto-Error`, `Retry-After`). Without `Content-Type` and `Cache-Control`,
    /// which belong to the HTTP answer.
    /// - Warning: the bytes are valid only inside `body`.
    package func withParts<Result>(_ body: (HeaderLines, UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try response.withHeaderLinesAndBody { lines, json in try body(HeaderLines(bytes: lines), json) }
    }

    /// The headers as strings (tests, and front doors off the hot path).
    package var headers: [(name: String, value: String)] {
        withParts { lines, _ in lines.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) } }
    }

    /// The JSON body as a string.
    package var body: String {
        withParts { _, json in String(decoding: json, as: UTF8.self) }
    }

    /// The `Name: value\r\n` lines of an answer as (name, value) byte ranges, skipping the two headers
    /// that belong to HTTP. Each line was written by `WireResponse.appendHeader`: one legal line.
    package struct HeaderLines: Sequence {
        let bytes: UnsafeRawBufferPointer

        package struct Iterator: IteratorProtocol {
            let bytes: UnsafeRawBufferPointer
            var position = 0

            package mutating func next() -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)? {
                guard let base = bytes.baseAddress else { return nil }
                while position < bytes.count {
                    let start = position
                    // Values never hold a CR (`appendHeaderValue` turns control characters into spaces).
                    guard let lineEnd = memchr(base + start, 13, bytes.count - start) else {
                        position = bytes.count
                        return nil
                    }
                    let end = base.distance(to: UnsafeRawPointer(lineEnd))
                    position = end + 2
                    guard let colonAt = memchr(base + start, Int32(UInt8(ascii: ":")), end - start) else { continue }
                    let colon = base.distance(to: UnsafeRawPointer(colonAt))
                    let name = UnsafeRawBufferPointer(start: base + start, count: colon - start)
                    if Self.isHTTPOnly(name) { continue }
                    let valueStart = Swift.min(colon + 2, end)
                    return (name, UnsafeRawBufferPointer(start: base + valueStart, count: end - valueStart))
                }
                return nil
            }

            private static func isHTTPOnly(_ name: UnsafeRawBufferPointer) -> Bool {
                same(name, "Content-Type") || same(name, "Cache-Control")
            }

            private static func same(_ name: UnsafeRawBufferPointer, _ other: StaticString) -> Bool {
                guard name.count == other.utf8CodeUnitCount else { return false }
                for index in 0..<name.count where name[index] != other.utf8Start[index] { return false }
                return true
            }
        }

        package func makeIterator() -> Iterator { Iterator(bytes: bytes) }
    }
}
