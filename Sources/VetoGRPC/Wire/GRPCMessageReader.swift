import NIOCore

/// The one message of a unary request, collected from a stream's DATA frames. gRPC frames each
/// message with 5 bytes: a compressed flag (0 or 1) and the length (4 bytes, big-endian).
///
/// Refuses as early as the bytes allow: a compressed or oversized message when its prefix arrives
/// (nothing more is kept), a second message when its first byte does.
struct GRPCMessageReader: Sendable {
    enum Failure: Error, Equatable {
        /// The compressed flag is set: Veto advertises no compression (grpc-accept-encoding: identity).
        case compressed
        /// The flag is neither 0 nor 1.
        case badFlag(UInt8)
        /// The prefix announces more than the maximum message size.
        case tooLarge(length: Int, limit: Int)
        /// The stream ended inside the prefix or the message.
        case truncated
        /// The stream ended without a message.
        case missing
        /// Bytes follow the message: a unary call carries exactly one.
        case extraData
    }

    let maxMessageBytes: Int
    private var buffer: ByteBuffer?
    /// The message length, once the prefix has arrived.
    private var length: Int?

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes held so far.
    var heldBytes: Int { buffer?.readableBytes ?? 0 }

    /// Appends a DATA frame's bytes; a failure means the call is refused (the reader is spent).
    mutating func append(_ bytes: ByteBuffer) -> Failure? {
        guard bytes.readableBytes > 0 else { return nil }
        if buffer == nil {
            buffer = bytes
        } else {
            var bytes = bytes
            buffer!.writeBuffer(&bytes)
        }
        let held = buffer!.readableBytes
        if length == nil, held >= 5 {
            let flag = buffer!.getInteger(at: buffer!.readerIndex, as: UInt8.self)!
            let announced = Int(buffer!.getInteger(at: buffer!.readerIndex + 1, as: UInt32.self)!)
            guard flag == 0 else {
                buffer = nil
                return flag == 1 ? .compressed : .badFlag(flag)
            }
            guard announced <= maxMessageBytes else {
                buffer = nil
                return .tooLarge(length: announced, limit: maxMessageBytes)
            }
            length = announced
        }
        if let length, held > 5 + length {
            buffer = nil
            return .extraData
        }
        return nil
    }

    /// The stream ended: the message (without its prefix), or why there is none.
    mutating func finish() -> Result<ByteBuffer, Failure> {
        defer { buffer = nil }
        guard let buffer, buffer.readableBytes > 0 else { return .failure(.missing) }
        guard let length, buffer.readableBytes == 5 + length else { return .failure(.truncated) }
        return .success(buffer.getSlice(at: buffer.readerIndex + 5, length: length)!)
    }
}
