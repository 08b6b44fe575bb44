import NIOCore
import Testing

@testable import VetoRedis

/// The reply parser's memory bounds against a hostile or broken server (found by Scripts/fuzz resp).
@Suite struct RESPParserBoundsTests {
    let allocator = ByteBufferAllocator()

    func feed(_ parser: RESPParser, _ text: String) throws(RedisError) {
        try parser.feed(allocator.buffer(string: text))
    }

    @Test func anArrayHeaderCannotReserveGigabytes() throws {
        // hiredis 0.14 callocs one slot per declared element before any arrives: 14 GB here.
        let parser = RESPParser(maxBufferedBytes: 64 << 20)
        try feed(parser, "*1777777777\r\n")
        let error = try #require(throws: RedisError.self) { _ = try parser.next() }
        #expect(error.code == .protocolViolation)
    }

    @Test func aReplyIsBoundedByTheBytesItSpansNotByWhatIsUnparsed() throws {
        // hiredis consumes elements as they arrive, so the unparsed buffer stays tiny while the
        // reply grows; the bound must count every byte of the reply being assembled.
        let parser = RESPParser(maxBufferedBytes: 4096)
        try feed(parser, "*1365\r\n")
        var refused: RedisError?
        for _ in 0..<1365 {
            do throws(RedisError) {
                try feed(parser, ":12345\r\n")
                #expect(try parser.next() == nil)
            } catch {
                refused = error
                break
            }
        }
        #expect(refused?.code == .protocolViolation)
    }

    @Test func repliesWithinTheBoundStillParseOneAfterAnother() throws {
        let parser = RESPParser(maxBufferedBytes: 4096)
        let element = ":12345\r\n"
        for round in 0..<3 {
            // Each reply is 3 KB; together they are far over the bound, one at a time they fit.
            try feed(parser, "*400\r\n" + String(repeating: element, count: 400) + "+after \(round)\r\n")
            let array = try #require(try parser.next())
            #expect(try array.get() == .array(Array(repeating: .integer(12345), count: 400)))
            #expect(try parser.next()?.get() == .simpleString("after \(round)"))
            #expect(try parser.next() == nil)
        }
    }
}
