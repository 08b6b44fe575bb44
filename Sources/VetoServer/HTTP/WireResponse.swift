import HTTPTypes
import NIOCore
import VetoCore

/// A data-plane answer as HTTP/1.1 bytes: the data plane writes it to the socket itself instead of
/// going through the HTTPTypes → NIOHTTP1 conversion and encoder, which cost more than the whole
/// check on a warm hit (Scripts/bench, README "Performance").
///
/// `headerLines` holds complete `Name: value\r\n` lines except `Content-Length` and `Connection`,
/// which `serialized` adds. Header values go through `appendHeaderValue`, which legalises them the
/// way `HTTPField` does, so no claim can inject a header or split the response.
struct WireResponse: Sendable {
    let status: HTTPResponse.Status
    private let content: Content

    private enum Content: Sendable {
        case parts(headerLines: ByteBuffer, body: ByteBuffer)
        /// Header lines then body in one array, `headerLength` bytes of header lines (a cached answer).
        case rendered(bytes: [UInt8], headerLength: Int)
    }

    init(status: HTTPResponse.Status, headerLines: ByteBuffer, body: ByteBuffer) {
        self.status = status
        self.content = .parts(headerLines: headerLines, body: body)
    }

    init(status: HTTPResponse.Status, rendered bytes: [UInt8], headerLength: Int) {
        precondition(headerLength <= bytes.count, "header lines longer than the answer")
        self.status = status
        self.content = .rendered(bytes: bytes, headerLength: headerLength)
    }

    /// Any `HTTPResponse` (whose fields `HTTPField` has already legalised).
    init(_ response: HTTPResponse, body: ByteBuffer, allocator: ByteBufferAllocator) {
        var lines = allocator.buffer(capacity: 128)
        for field in response.headerFields {
            lines.writeString(field.name.rawName)
            lines.writeStaticString(": ")
            lines.writeString(field.value)
            lines.writeStaticString("\r\n")
        }
        self.init(status: response.status, headerLines: lines, body: body)
    }

    /// The whole response: status line, header lines, `Content-Length`, `Connection: close` when
    /// the connection ends after it, the blank line and the body, in one buffer (one write).
    /// An answer to HEAD has the headers of the GET answer and no body (RFC 9110 §9.3.2).
    func serialized(close: Bool, withBody: Bool = true, allocator: ByteBufferAllocator) -> ByteBuffer {
        let headerCount: Int, bodyCount: Int
        switch content {
        case let .parts(headerLines, body): (headerCount, bodyCount) = (headerLines.readableBytes, body.readableBytes)
        case let .rendered(bytes, headerLength): (headerCount, bodyCount) = (headerLength, bytes.count - headerLength)
        }
        var out = allocator.buffer(capacity: 96 + headerCount + bodyCount)
        out.writeStaticString("HTTP/1.1 ")
        Self.appendDecimal(status.code, into: &out)
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
        switch content {
        case let .parts(headerLines, _): out.writeImmutableBuffer(headerLines)
        case let .rendered(bytes, headerLength): out.writeBytes(bytes[..<headerLength])
        }
        out.writeStaticString("Content-Length: ")
        Self.appendDecimal(bodyCount, into: &out)
        out.writeStaticString(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n")
        guard withBody else { return out }
        switch content {
        case let .parts(_, body): out.writeImmutableBuffer(body)
        case let .rendered(bytes, headerLength): out.writeBytes(bytes[headerLength...])
        }
        return out
    }

    /// Appends `name: value\r\n`.
    static func appendHeader(_ name: String, _ value: String, into out: inout ByteBuffer) {
        out.writeString(name)
        out.writeStaticString(": ")
        appendHeaderValue(value, into: &out)
        out.writeStaticString("\r\n")
    }

    /// A header value made legal as `HTTPField(name:value:)` does: leading whitespace and control
    /// characters dropped, inner control characters (CR, LF, NUL, …) turned into spaces, trailing
    /// whitespace trimmed. Legal values (nearly all) are copied as they are.
    static func appendHeaderValue(_ value: String, into out: inout ByteBuffer) {
        let written: Void? = value.utf8.withContiguousStorageIfAvailable { bytes in
            if isLegal(bytes) { out.writeBytes(bytes) } else { appendLegalised(bytes, into: &out) }
        }
        if written == nil {
            Array(value.utf8).withUnsafeBufferPointer { appendLegalised($0, into: &out) }
        }
    }

    /// Whether `value` goes into a header byte for byte (no leading or trailing blank, no control character).
    static func isLegalValue(_ value: String) -> Bool {
        value.utf8.withContiguousStorageIfAvailable(isLegal) ?? Array(value.utf8).withUnsafeBufferPointer(isLegal)
    }

    static func isLegal(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return true }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return false }
        for byte in bytes where byte < 0x20 && byte != 0x09 || byte == 0x7F {
            return false
        }
        return true
    }

    private static func appendLegalised(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout ByteBuffer) {
        var kept = [UInt8]()
        kept.reserveCapacity(bytes.count)
        var lastVisible = -1
        for byte in bytes {
            switch byte {
            case 0x21...0x7E, 0x80...0xFF:
                kept.append(byte)
                lastVisible = kept.count - 1
            case 0x09, 0x20:
                if !kept.isEmpty { kept.append(byte) }
            default:
                if !kept.isEmpty { kept.append(0x20) }
            }
        }
        out.writeBytes(kept[0..<(lastVisible + 1)])
    }

    static func appendDecimal(_ value: Int, into out: inout ByteBuffer) {
        out.writeString(String(value))
    }

    /// `name: value\r\n` into a byte array (the rendering of cached answers).
    static func appendHeader(_ name: String, _ value: String, into out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ":"))
        out.append(UInt8(ascii: " "))
        let written: Void? = value.utf8.withContiguousStorageIfAvailable { bytes in
            if isLegal(bytes) { out.append(contentsOf: bytes) } else { appendLegalised(bytes, into: &out) }
        }
        if written == nil {
            Array(value.utf8).withUnsafeBufferPointer { appendLegalised($0, into: &out) }
        }
        out.append(13)
        out.append(10)
    }

    private static func appendLegalised(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        appendLegalised(bytes, into: &buffer)
        out.append(contentsOf: buffer.readableBytesView)
    }

    static func appendJSONString(_ string: String, into out: inout [UInt8]) {
        if JSONWriter.needsEscaping(string) {
            out.append(contentsOf: JSONWriter.quoted(string).utf8)
        } else {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: string.utf8)
            out.append(UInt8(ascii: "\""))
        }
    }

    /// A JSON string literal, escaped exactly as `JSONWriter` does.
    static func appendJSONString(_ string: String, into out: inout ByteBuffer) {
        if JSONWriter.needsEscaping(string) {
            out.writeString(JSONWriter.quoted(string))
        } else {
            out.writeStaticString("\"")
            out.writeString(string)
            out.writeStaticString("\"")
        }
    }
}

extension WireResponse {
    /// The header lines and the body as bytes, in place: the same answer for a front door that writes
    /// its own framing (gRPC). The lines were written by `appendHeader`, so each is one legal `Name: value`.
    func withHeaderLinesAndBody<Result>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch content {
        case let .parts(headerLines, bodyBuffer):
            try headerLines.withUnsafeReadableBytes { lines in try bodyBuffer.withUnsafeReadableBytes { try body(lines, $0) } }
        case let .rendered(bytes, headerLength):
            try bytes.withUnsafeBytes { all in
                try body(UnsafeRawBufferPointer(rebasing: all[..<headerLength]), UnsafeRawBufferPointer(rebasing: all[headerLength...]))
            }
        }
    }
}
