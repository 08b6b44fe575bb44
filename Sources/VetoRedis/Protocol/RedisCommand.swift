internal import CHiredis
import NIOCore

/// One command, encoded to RESP once, when it is made, by hiredis's `redisFormatCommandArgv`.
///
/// Arguments are bytes, so keys and values are binary-safe.
public struct RedisCommand: Sendable {
    /// The command word, for error messages ("command GET timed out after 500 ms").
    public let name: String
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
    public init(_ name: String, _ arguments: [[UInt8]], routingKey: [UInt8]? = nil) {
        self.name = name
        self.encoded = Self.encode([Array(name.utf8)] + arguments)
        self.arguments = arguments
        self.explicitKey = routingKey
    }

    /// The key that decides which Redis Cluster node serves the command; `nil` for commands on no key
    /// (PING, SCAN, WAIT), which go to whichever node they are sent to.
    public var routingKey: [UInt8]? {
        explicitKey ?? Self.firstKey(name, arguments)
    }

    public init(_ name: String, _ arguments: [String]) {
        self.init(name, arguments.map { Array($0.utf8) })
    }

    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    private static let singleKeyCommands: Set<String> = [
        "GET", "SET", "DEL", "UNLINK", "EXISTS", "TYPE", "TTL", "PTTL", "EXPIRE", "PEXPIRE", "PERSIST",
        "GETDEL", "GETEX", "SETEX", "PSETEX", "SETNX", "INCR", "DECR", "INCRBY", "APPEND", "STRLEN", "DUMP",
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

    private static func encode(_ arguments: [[UInt8]]) -> ByteBuffer {
        // One contiguous copy of every argument, so each argv pointer points into memory that stays put.
        var joined = [UInt8]()
        joined.reserveCapacity(arguments.reduce(0) { $0 + $1.count } + 1)
        for argument in arguments { joined.append(contentsOf: argument) }
        joined.append(0)  // never empty, so the buffer always has a base address
        let lengths = arguments.map(\.count)

        return joined.withUnsafeBufferPointer { storage in
            let base = UnsafeRawPointer(storage.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers = [UnsafePointer<CChar>?]()
            pointers.reserveCapacity(arguments.count)
            var offset = 0
            for length in lengths {
                pointers.append(base + offset)
                offset += length
            }
            var target: UnsafeMutablePointer<CChar>?
            let count = pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisFormatCommandArgv(&target, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
            // hiredis fails only when malloc does; Swift itself traps on out-of-memory too.
            guard count >= 0, let target else { fatalError("redisFormatCommandArgv could not allocate") }
            defer { redisFreeCommand(target) }
            var buffer = ByteBufferAllocator().buffer(capacity: Int(count))
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(count)))
            return buffer
        }
    }
}
