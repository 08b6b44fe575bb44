/// A compact-serialised JWS, split and decoded but not verified (RFC 7515 §7.1).
///
/// Cheap structure first: the size limit and the segment count are checked before anything is
/// decoded, and the payload is not parsed as JSON here (a JWS payload may be any bytes).
package struct CompactJWS: Sendable {
    /// The default size limit for a whole token, in bytes.
    package static let defaultMaxSize = 8 * 1024

    package let header: JOSEHeader
    package let payload: [UInt8]
    package let signature: [UInt8]
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes the signature covers.
    package let signingInput: ArraySlice<UInt8>

    package static func parse(_ token: String, maxSize: Int = defaultMaxSize) throws(ValidationFailure) -> CompactJWS {
        try parse(Array(token.utf8), maxSize: maxSize)
    }

    package static func parse(_ bytes: [UInt8], maxSize: Int = defaultMaxSize) throws(ValidationFailure) -> CompactJWS {
        if bytes.count > maxSize {
            throw ValidationFailure(
                .tokenTooLarge, .structure,
                "The token is \(bytes.count) bytes; the limit is \(maxSize).",
                hint: "Tokens this large usually carry data that belongs in a database, not a bearer token.")
        }
        if bytes.isEmpty {
            throw ValidationFailure(.malformedToken, .structure, "The token is empty.")
        }
        var dots: [Int] = []
        dots.reserveCapacity(2)
        for index in bytes.indices where bytes[index] == UInt8(ascii: ".") {
            dots.append(index)
            if dots.count > 4 { break }
        }
        let segments = dots.count + 1
        if segments == 5 {
            throw ValidationFailure(
                .encryptedTokenUnsupported, .structure,
                "The token has 5 segments: it is an encrypted JWE, not a signed JWS (3 segments).",
                hint: "Veto verifies signed tokens only; ask the issuer for a signed (JWS) access token.")
        }
        if segments != 3 {
            throw ValidationFailure(
                .malformedToken, .structure,
                "The token has \(segments > 5 ? "more than 5" : String(segments)) segment\(segments == 1 ? "" : "s") separated by '.'; a signed JWT has exactly 3 (header.payload.signature).",
                hint: segments == 1 ? "This does not look like a JWT at all; is it an opaque token?" : nil)
        }
        let headerPart = bytes[..<dots[0]]
        let payloadPart = bytes[(dots[0] + 1)..<dots[1]]
        let signaturePart = bytes[(dots[1] + 1)...]

        let headerBytes = try decodeSegment(headerPart, name: "header", position: 1)
        let headerObject: JSONObject
        do {
            headerObject = try JSONReader().parseObject(headerBytes)
        } catch {
            throw ValidationFailure(.malformedToken, .structure, "The header segment (1 of 3) is not a JSON object: \(error).")
        }
        let header = try JOSEHeader(object: headerObject)
        let payload = try decodeSegment(payloadPart, name: "payload", position: 2)
        let signature = try decodeSegment(signaturePart, name: "signature", position: 3)
        return CompactJWS(header: header, payload: payload, signature: signature, signingInput: bytes[..<dots[1]])
    }

    static func decodeSegment(_ segment: ArraySlice<UInt8>, name: String, position: Int) throws(ValidationFailure) -> [UInt8] {
        do {
            return try Base64URL.decode(segment)
        } catch {
            throw ValidationFailure(
                .malformedToken, .structure,
                "The \(name) segment (\(position) of 3) is not valid base64url: \(error).",
                hint: "JWTs use unpadded base64url (RFC 7515 §2): no '=', '+', '/' or whitespace.")
        }
    }
}
