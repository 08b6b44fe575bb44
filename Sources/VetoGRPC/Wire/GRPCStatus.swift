/// A call's outcome as the `grpc-status` and `grpc-message` trailers carry it.
struct GRPCStatus: Sendable, Equatable {
    /// The codes Veto answers with (grpc/doc/statuscodes.md).
    enum Code: Int, Sendable {
        case ok = 0
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case resourceExhausted = 8
        case unimplemented = 12
        case unavailable = 14
        case unauthenticated = 16
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    static let ok = GRPCStatus(.ok)

    /// `grpc-message`: percent-encoded UTF-8, every byte outside printable ASCII and `%` itself
    /// (grpc/doc/PROTOCOL-HTTP2.md), so a message can never break the header it travels in.
    var encodedMessage: String {
        var out = ""
        out.reserveCapacity(message.utf8.count)
        for byte in message.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let digits = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}
