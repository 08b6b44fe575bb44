import NIOCore
import VetoServer

/// Envoy's `CheckResponse` for a verdict, written as one length-prefixed gRPC message straight from
/// the answer `/v1/check` renders (one engine, two front doors); field numbers are those of
/// Protos/external_auth.proto, and VetoGRPCTests decode the result with the generated messages.
///
/// - Allow: status OK, `ok_response` with the identity headers `/v1/check` sets (overwriting a
///   client's header of the same name); one with an empty value (a claim the token lacks) goes to
///   `headers_to_remove` instead, lower-cased, since Envoy may drop an empty header rather than set it,
///   which would leave a client's forged one in place; `authorization` too when asked to strip it; and
///   `dynamic_metadata` `{sub, iss, jti, exp}` (sub and exp when the token has them) for later filters.
/// - Deny: status UNAUTHENTICATED with the reason code as message, `denied_response` 401 with
///   `WWW-Authenticate`, `X-Veto-Error`, `Content-Type` and the JSON body of `/v1/check`.
/// - Store down: status UNAVAILABLE, `denied_response` 503. Never OK.
enum CheckResponseWriter {
    static func framedResponse(to verdict: GatewayVerdict, stripAuthorization: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        verdict.withParts { lines, body in
            switch verdict.decision {
            case .allowed: allowed(lines, identity: verdict.identity, stripAuthorization: stripAuthorization, allocator: allocator)
            case .denied: refused(lines, body: body, code: .unauthenticated, httpStatus: verdict.status, allocator: allocator)
            case .unavailable: refused(lines, body: body, code: .unavailable, httpStatus: verdict.status, allocator: allocator)
            }
        }
    }

    private static let strippedHeader: StaticString = "authorization"
    private static let contentType: StaticString = "Content-Type"
    private static let json: StaticString = "application/json"
    private typealias Size = ProtobufWriter

    // MARK: Allow

    private static func allowed(
        _ lines: GatewayVerdict.HeaderLines, identity: GatewayVerdict.Identity?, stripAuthorization: Bool, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var ok = 0
        for (name, value) in lines {
            ok += value.isEmpty ? Size.fieldSize(payload: name.count) : Size.fieldSize(payload: optionSize(name.count, value.count))
        }
        if stripAuthorization { ok += Size.fieldSize(payload: strippedHeader.utf8CodeUnitCount) }
        let metadata = identity.map(metadataSize) ?? 0
        let size = Size.fieldSize(payload: 0) + Size.fieldSize(payload: ok) + (identity == nil ? 0 : Size.fieldSize(payload: metadata))
        var out = allocator.buffer(capacity: 5 + size)
        out.writeProtobuf(size: size, framed: true) { out in
            out.field(1, length: 0)  // status: OK, every field at its default
            out.field(3, length: ok)
            for (name, value) in lines where !value.isEmpty { writeOption(name, value, into: &out) }
            for (name, value) in lines where value.isEmpty {
                out.field(5, length: name.count)
                out.lowercased(name)
            }
            if stripAuthorization { out.field(5, strippedHeader) }
            if let identity {
                out.field(4, length: metadata)
                writeMetadata(identity, into: &out)
            }
        }
        return out
    }

    /// google.protobuf.Struct: fields(1) map<string, Value>; Value: number_value(2), string_value(3).
    private static func metadataSize(_ identity: GatewayVerdict.Identity) -> Int {
        var size = stringEntrySize(3, identity.issuer.utf8.count) + stringEntrySize(3, identity.jwtID.utf8.count)
        if let subject = identity.subject { size += stringEntrySize(3, subject.utf8.count) }
        if identity.expiresAt != nil { size += Size.fieldSize(payload: Size.fieldSize(payload: 3) + Size.fieldSize(payload: 9)) }
        return size
    }

    private static func stringEntrySize(_ key: Int, _ value: Int) -> Int {
        Size.fieldSize(payload: Size.fieldSize(payload: key) + Size.fieldSize(payload: Size.fieldSize(payload: value)))
    }

    private static func writeMetadata(_ identity: GatewayVerdict.Identity, into out: inout ProtobufWriter) {
        func string(_ key: StaticString, _ value: String) {
            let count = value.utf8.count
            out.field(1, length: Size.fieldSize(payload: key.utf8CodeUnitCount) + Size.fieldSize(payload: Size.fieldSize(payload: count)))
            out.field(1, key)
            out.field(2, length: Size.fieldSize(payload: count))
            out.field(3, string: value)
        }
        if let exp = identity.expiresAt {
            out.field(1, length: Size.fieldSize(payload: 3) + Size.fieldSize(payload: 9))
            out.field(1, "exp")
            out.field(2, length: 9)
            out.doubleField(2, exp.rounded(.down))
        }
        string("iss", identity.issuer)
        string("jti", identity.jwtID)
        if let subject = identity.subject { string("sub", subject) }
    }

    // MARK: Deny and store down

    private static func refused(
        _ lines: GatewayVerdict.HeaderLines, body: UnsafeRawBufferPointer, code: GRPCStatus.Code, httpStatus: Int,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var reason = UnsafeRawBufferPointer(start: nil, count: 0)
        var headers = 0
        for (name, value) in lines {
            if reason.isEmpty, name.elementsEqual("X-Veto-Error".utf8) { reason = value }
            headers += Size.fieldSize(payload: optionSize(name.count, value.count))
        }
        headers += Size.fieldSize(payload: optionSize(contentType.utf8CodeUnitCount, json.utf8CodeUnitCount))
        let status = Size.varintFieldSize(code.rawValue) + (reason.isEmpty ? 0 : Size.fieldSize(payload: reason.count))
        let httpStatusSize = Size.varintFieldSize(httpStatus)
        let denied = Size.fieldSize(payload: httpStatusSize) + headers + (body.isEmpty ? 0 : Size.fieldSize(payload: body.count))
        let size = Size.fieldSize(payload: status) + Size.fieldSize(payload: denied)
        var out = allocator.buffer(capacity: 5 + size)
        out.writeProtobuf(size: size, framed: true) { out in
            out.field(1, length: status)
            out.varintField(1, code.rawValue)
            if !reason.isEmpty { out.field(2, bytes: reason) }
            out.field(2, length: denied)
            out.field(1, length: httpStatusSize)
            out.varintField(1, httpStatus)
            for (name, value) in lines { writeOption(name, value, into: &out) }
            writeOption(
                UnsafeRawBufferPointer(start: contentType.utf8Start, count: contentType.utf8CodeUnitCount),
                UnsafeRawBufferPointer(start: json.utf8Start, count: json.utf8CodeUnitCount), into: &out)
            if !body.isEmpty { out.field(3, bytes: body) }
        }
        return out
    }

    // MARK: HeaderValueOption

    /// HeaderValueOption: header(1) HeaderValue: key(1), value(2).
    private static func optionSize(_ name: Int, _ value: Int) -> Int {
        Size.fieldSize(payload: headerValueSize(name, value))
    }

    private static func headerValueSize(_ name: Int, _ value: Int) -> Int {
        Size.fieldSize(payload: name) + (value == 0 ? 0 : Size.fieldSize(payload: value))
    }

    /// As field 2 of the enclosing message (OkHttpResponse.headers, DeniedHttpResponse.headers).
    private static func writeOption(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, into out: inout ProtobufWriter) {
        let headerValue = headerValueSize(name.count, value.count)
        out.field(2, length: Size.fieldSize(payload: headerValue))
        out.field(1, length: headerValue)
        out.field(1, bytes: name)
        if !value.isEmpty { out.field(2, bytes: value) }
    }
}
