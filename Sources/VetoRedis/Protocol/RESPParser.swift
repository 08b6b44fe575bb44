internal import CHiredis
import NIOCore

/// hiredis's `redisReader` behind a Swift face: feed bytes as they arrive, take whole replies out.
///
/// Not thread-safe; one per channel, used on its event loop only.
final class RESPParser {
    private let reader: UnsafeMutablePointer<redisReader>
    private let maxBufferedBytes: Int
    /// Bytes fed since the last complete reply: the reply being assembled. hiredis consumes bytes
    /// as it builds the reply's elements, so the unparsed buffer alone does not bound its memory.
    private var bytesOfCurrentReply = 0

    /// - Parameter maxBufferedBytes: Bytes one reply may span before the stream is treated as
    ///   broken; bounds memory against a runaway or hostile server.
    init(maxBufferedBytes: Int) {
        // hiredis's default reply objects (`redisReply`, freed by freeReplyObject), with array
        // lengths bounded: every element takes at least 3 bytes ("+\r\n") on the wire.
        let maxElements = Int32(clamping: max(1, maxBufferedBytes / 3))
        guard let reader = veto_hiredis_reader_create(maxElements) else { fatalError("redisReaderCreate could not allocate") }
        self.reader = reader
        self.maxBufferedBytes = maxBufferedBytes
    }

    deinit {
        veto_hiredis_reader_free(reader)
    }

    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        bytesOfCurrentReply += buffer.readableBytes
        guard bytesOfCurrentReply <= maxBufferedBytes else {
            throw RedisError(.protocolViolation, "a Redis reply exceeds \(maxBufferedBytes) bytes")
        }
        let status = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard status == REDIS_OK else { throw protocolError() }
    }

    /// The next complete reply, `nil` when more bytes are needed. An error reply is `.failure`.
    func next() throws(RedisError) -> Result<RedisValue, RedisError>? {
        var reply: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &reply) == REDIS_OK else { throw protocolError() }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        // What is still unparsed belongs to the next replies.
        bytesOfCurrentReply = veto_hiredis_reader_buffered(reader)
        return Self.convert(UnsafePointer(reply.assumingMemoryBound(to: redisReply.self)))
    }

    private func protocolError() -> RedisError {
        let detail = String(cString: veto_hiredis_reader_errstr(reader))
        return RedisError(.protocolViolation, "unreadable reply from Redis: \(detail)")
    }

    /// An error anywhere in the reply (also inside an array, as EXEC can return) fails the whole reply:
    /// an error is never handed out as a value.
    private static func convert(_ reply: UnsafePointer<redisReply>) -> Result<RedisValue, RedisError> {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .success(.bulkString(bytes(reply)))
        case REDIS_REPLY_STATUS:
            return .success(.simpleString(String(decoding: bytes(reply), as: UTF8.self)))
        case REDIS_REPLY_INTEGER:
            return .success(.integer(Int64(reply.integer)))
        case REDIS_REPLY_NIL:
            return .success(.null)
        case REDIS_REPLY_ERROR:
            return .failure(.server(String(decoding: bytes(reply), as: UTF8.self)))
        case REDIS_REPLY_ARRAY:
            var elements = [RedisValue]()
            elements.reserveCapacity(reply.elements)
            for index in 0..<reply.elements {
                guard let element = reply.element[index] else {
                    return .failure(RedisError(.protocolViolation, "Redis array reply with a missing element"))
                }
                switch convert(UnsafePointer(element)) {
                case .success(let value): elements.append(value)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.array(elements))
        default:
            return .failure(RedisError(.protocolViolation, "Redis reply of unknown type \(reply.type)"))
        }
    }

    private static func bytes(_ reply: redisReply) -> [UInt8] {
        guard let str = reply.str, reply.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: reply.len))
    }
}
