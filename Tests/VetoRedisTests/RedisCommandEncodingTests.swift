import CHiredis
import NIOCore
import Testing

@testable import VetoRedis

/// Commands are encoded in Swift; hiredis's `redisFormatCommandArgv` is the reference they must match
/// byte for byte.
@Suite struct RedisCommandEncodingTests {
    /// The encoder Veto used before, through hiredis.
    static func reference(_ arguments: [[UInt8]]) -> [UInt8] {
        var joined = [UInt8]()
        for argument in arguments { joined.append(contentsOf: argument) }
        joined.append(0)
        let lengths = arguments.map(\.count)
        return joined.withUnsafeBufferPointer { storage in
            let base = UnsafeRawPointer(storage.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers = [UnsafePointer<CChar>?]()
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
            defer { redisFreeCommand(target) }
            return Array(UnsafeRawBufferPointer(start: target, count: Int(count)))
        }
    }

    @Test func matchesHiredis() {
        let cases: [(String, [[UInt8]])] = [
            ("PING", []),
            ("GET", [Array("veto:j:24:https://auth.example.com:4f1c".utf8)]),
            ("SET", [Array("k".utf8), [], [0, 13, 10, 255, 36, 42]]),
            ("EVALSHA", [Array("ab".utf8), Array("1".utf8), [UInt8](repeating: 0x61, count: 70_000)])
        ]
        for (name, arguments) in cases {
            let encoded = RedisCommand(name, arguments).encoded
            #expect(Array(encoded.readableBytesView) == Self.reference([Array(name.utf8)] + arguments), "\(name)")
        }
    }

    @Test func matchesHiredisOnRandomArguments() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let arguments = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            #expect(Array(RedisCommand("GET", arguments).encoded.readableBytesView) == Self.reference([Array("GET".utf8)] + arguments))
        }
    }
}
