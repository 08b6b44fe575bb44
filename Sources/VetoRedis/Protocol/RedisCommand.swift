import NIOCore

/// One command, encoded to RESP once, when it is made.
///
/// Arguments are bytes, so keys and values are binary-safe. The encoding (`*N`, then `$len` and
/// the bytes of each argument) is written here rather than by hiredis's `redisFormatCommandArgv`:
/// the same bytes, without its argv arrays, `sprintf` and extra copy, which cost more than the
/// rest of a blocklist lookup (README "Performance"). Replies are still parsed by hiredis.
package struct RedisCommand: Sendable {
    /// The command word, for error messages ("command GET timed out after 500 ms").
    package let name: String
    /// The RESP bytes ready to write.
    let encoded: ByteBuffer
    /// The arguments as given (shared, not copied), for ``routingKey``: only routed clients read it,
    /// so a single-server client pays nothing for cluster routing.
    private let arguments: [[UInt8]]
    private let explicitKey: [UInt8]?

    /// - Parameters:
    ///   - name: The command word, e.g. "GET"; sent as the first argument.
    ///   - arguments: Every further argument, as bytes.
    ///   - routingKey: The key for cluster routing; by default the first key of the single-key commands
    ///     Veto uses (GET, SET, DEL, PTTL, …, written in upper case) and of EVAL/EVALSHA.
    package init(_ name: String, _ arguments: [[UInt8]], routingKey: [UInt8]? = nil) {
        self.name = name
        self.encoded = Self.encode(name: name, arguments)
        self.arguments = arguments
        self.explicitKey = routingKey
    }

    /// The key that decides which Redis Cluster node serves the command; `nil` for commands on no key
    /// (PING, SCAN, WAIT), which go to whichever node they are sent to.
    package var routingKey: [UInt8]? {
        explicitKey ?? Self.firstKey(name, arguments)
    }

    package init(_ name: String, _ arguments: [String]) {
        self.init(name, arguments.map { Array($0.utf8) })
    }

    package init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    private static let singleKeyCommands: Set<String> = [
        "GET", "SET", "DEL", "UNLINK", "EXISTS", "TYPE", "TTL", "PTTL", "EXPIRE", "PEXPIRE", "PERSIST",
        "GETDEL", "GETEX", "SETEX", "PSETEX", "SETNX", "INCR", "DECR", "INCRBY", "APPEND", "STRLEN", "DUMP"
    ]

    private static func firstKey(_ name: String, _ arguments: [[UInt8]]) -> [UInt8]? {
        // Veto writes command words in upper case; matching them as given keeps the hot path free of
        // case folding.
        let upper = name
        if upper == "EVAL" || upper == "EVALSHA" || upper == "EVAL_RO" || upper == "EVALSHA_RO" {
            guard arguments.count > 2, arguments[1] != Array("0".utf8) else { return nil }
            return arguments[2]
        }
        guard !arguments.isEmpty, singleKeyCommands.contains(upper) else { return nil }
        return arguments[0]
    }

    static func encode(name: String, _ arguments: [[UInt8]]) -> ByteBuffer {
        var size = 3 + decimalLength(arguments.count + 1) + headerLength(name.utf8.count)
        for argument in arguments { size += headerLength(argument.count) }
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var at = 0
            base[at] = UInt8(ascii: "*")
            at = writeDecimal(arguments.count + 1, to: base, at: at + 1)
            var name = name
            at = name.withUTF8 { writeArgument(UnsafeRawBufferPointer($0), to: base, at: at + 2, header: true) }
            for argument in arguments {
                at = argument.withUnsafeBytes { writeArgument($0, to: base, at: at, header: false) }
            }
            return at
        }
        return buffer
    }

    /// Writes (`\r\n` before it when `header`) `$<length>\r\n<bytes>\r\n`; returns the next offset.
    private static func writeArgument(_ bytes: UnsafeRawBufferPointer, to base: UnsafeMutablePointer<UInt8>, at start: Int, header: Bool) -> Int {
        var at = start
        if header {
            base[at - 2] = 13
            base[at - 1] = 10
        }
        base[at] = UInt8(ascii: "$")
        at = writeDecimal(bytes.count, to: base, at: at + 1)
        base[at] = 13
        base[at + 1] = 10
        at += 2
        if let source = bytes.baseAddress, bytes.count > 0 {
            UnsafeMutableRawPointer(base + at).copyMemory(from: source, byteCount: bytes.count)
        }
        at += bytes.count
        base[at] = 13
        base[at + 1] = 10
        return at + 2
    }

    /// Writes `value` in decimal; returns the next offset.
    private static func writeDecimal(_ value: Int, to base: UnsafeMutablePointer<UInt8>, at start: Int) -> Int {
        let length = decimalLength(value)
        var rest = value
        var position = start + length - 1
        while position >= start {
            base[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        }
        return start + length
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
