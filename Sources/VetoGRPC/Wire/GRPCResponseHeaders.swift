import NIOHPACK

/// The header blocks of Veto's answers. The fixed ones are built once: HPACK indexes them after the
/// first answer on a connection, so each later answer costs a few bytes.
enum GRPCResponseHeaders {
    /// Before an answer's message.
    static let headers: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
    /// After it: the call succeeded.
    static let ok: HPACKHeaders = ["grpc-status": "0"]
    /// Not a gRPC request at all (grpc/doc/PROTOCOL-HTTP2.md: 415 for a foreign content-type).
    static let unsupportedMediaType: HPACKHeaders = [":status": "415"]

    /// A call refused before any message: headers and status in one block ("trailers-only").
    static func trailersOnly(_ status: GRPCStatus) -> HPACKHeaders {
        var headers: HPACKHeaders = [":status": "200", "content-type": "application/grpc", "grpc-status": String(status.code.rawValue)]
        if !status.message.isEmpty { headers.add(name: "grpc-message", value: status.encodedMessage, indexing: .nonIndexable) }
        return headers
    }
}
