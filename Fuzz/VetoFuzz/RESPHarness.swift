import NIOCore

@testable import VetoRedis

/// The Redis reply path: hiredis's redisReader behind RESPParser, fed the way a socket would, in
/// chunks whose sizes the first byte picks. A reply is never handed out twice or half-parsed,
/// and a protocol error is final (the connection is closed on it in production).
enum RESPHarness {
    static let allocator = ByteBufferAllocator()

    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let chunk = Int(first % 16) + 1
        let stream = bytes.dropFirst()
        let parser = RESPParser(maxBufferedBytes: 1 << 16)
        var offset = stream.startIndex
        var replies = 0
        while offset < stream.endIndex {
            let end = min(offset + chunk, stream.endIndex)
            var buffer = allocator.buffer(capacity: end - offset)
            buffer.writeBytes(stream[offset..<end])
            offset = end
            do throws(RedisError) {
                try parser.feed(buffer)
                while let reply = try parser.next() {
                    replies += 1
                    if case let .success(value) = reply { _ = depth(value) }
                }
            } catch {
                return  // a protocol violation ends the stream, as on a real connection
            }
        }
        _ = replies
    }

    static func depth(_ value: RedisValue) -> Int {
        switch value {
        case let .array(elements): 1 + (elements.map(depth).max() ?? 0)
        default: 0
        }
    }
}
