import NIOCore

/// One command, encoded to RESP once, when it is made.
///
/// Arguments are bytes, so keys and values are binary-safe. The encoding (`*N`, then `$len` and
/// the bytes of each argument) is written here rather than by hiredis's `redisFormatCommandArgv`:
/// the same bytes, without its argv arrays, `sprintf` and extra copy, which cost more than the
/// rest of a blocklist lookup (README "Performance"). Replies are still parsed by hiredis.
public struct RedisCommand: Sendable {
    /// The command word, for error messages ("command GET timed out after 500 ms").
    public let name: String
    /// The RESP bytes ready to write.
    let encoded: ByteBuffer

    /// - Parameters:
    ///   - name: The command word, e.g. "GET"; sent as the first argument.
    ///   - arguments: Every further argument, as bytes.
    public init(_ name: String, _ arguments: [[UInt8]]) {
        self.name = name
        self.encoded = Self.encode(name: name, arguments)
    }

    public init(_ name: String, _ arguments: [String]) {
        self.init(name, arguments.map { Array($0.utf8) })
    }

    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    static func encode(name: String, _ arguments: [[UInt8]]) -> ByteBuffer {
        var size = 3 + decimalLength(arguments.count + 1) + headerLength(name.utf8.count)
        for argument in arguments { size += headerLength(argument.count) }
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var at = 0
            func put(_ byte: UInt8) {
                raw[at] = byte
                at += 1
            }
            func put(decimal value: Int) {
                let length = decimalLength(value)
                var rest = value
                for position in stride(from: at + length - 1, through: at, by: -1) {
                    raw[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                at += length
            }
            func put(argument bytes: UnsafeRawBufferPointer) {
                put(UInt8(ascii: "$"))
                put(decimal: bytes.count)
                put(13)
                put(10)
                if let base = bytes.baseAddress, bytes.count > 0 {
                    (raw.baseAddress! + at).copyMemory(from: base, byteCount: bytes.count)
                }
                at += bytes.count
                put(13)
                put(10)
            }
            put(UInt8(ascii: "*"))
            put(decimal: arguments.count + 1)
            put(13)
            put(10)
            var name = name
            name.withUTF8 { put(argument: UnsafeRawBufferPointer($0)) }
            for argument in arguments { argument.withUnsafeBytes { put(argument: $0) } }
            return at
        }
        return buffer
    }

    /// `$<length>\r\n<bytes>\r\n`
    private static func headerLength(_ count: Int) -> Int {
        1 + decimalLength(count) + 2 + count + 2
    }

    private static func decimalLength(_ value: Int) -> Int {
        var length = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        return length
    }
}
