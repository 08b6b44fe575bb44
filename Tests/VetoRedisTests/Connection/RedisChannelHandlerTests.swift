import NIOCore
import NIOEmbedded
import Testing

@testable import VetoRedis

/// The channel handler on NIO's `EmbeddedChannel`: bytes in, bytes out, embedded time, and what the
/// commands' sinks received.
@Suite struct RedisChannelHandlerTests {
    /// A handler on a connected embedded channel, adopted, its events recorded.
    final class Harness {
        let loop = EmbeddedEventLoop()
        let handler: RedisChannelHandler
        let channel: EmbeddedChannel
        var events: [RedisChannelHandler.Event] = []

        init(_ configure: (inout RedisConfiguration) -> Void = { _ in }, pushes: Bool = false, adopt: Bool = true) {
            let configuration = testConfiguration(configure)
            handler = RedisChannelHandler(settings: .init(configuration, acceptsPushes: pushes, tls: nil))
            channel = .connected(handler, loop: loop)
            if adopt { self.adopt(RedisHandshake(configuration)) }
        }

        func adopt(_ handshake: RedisHandshake) {
            handler.activate(handshake) { [weak self] event in self?.events.append(event) }
        }

        /// Closes the channel, so that its pipeline and handler are freed (an open EmbeddedChannel and
        /// its pipeline keep each other alive: LeakSanitizer reports them).
        deinit {
            channel.close(promise: nil)
            loop.run()
        }

        /// Adopted and past a PING-only handshake.
        static func ready(_ configure: (inout RedisConfiguration) -> Void = { _ in }, pushes: Bool = false) throws -> Harness {
            let harness = Harness(configure, pushes: pushes)
            #expect(try harness.channel.written() == wire("PING"))
            try harness.channel.writeInbound(bytes("+PONG\r\n"))
            #expect(harness.isReady)
            return harness
        }

        var isReady: Bool { events.contains { if case .ready = $0 { true } else { false } } }

        var closedError: RedisError? {
            for event in events { if case .closed(let error) = event { return error } }
            return nil
        }

        func send(_ name: String, _ arguments: String...) -> Reply {
            let (sink, reply) = makeSink()
            handler.send(RedisCommand(name, arguments), reply: sink, deadline: loop.now + .milliseconds(500))
            return reply
        }
    }

    @Test func eachReplyAnswersItsCommandInOrder() throws {
        let harness = try Harness.ready()
        let a = harness.send("GET", "a")
        let b = harness.send("GET", "b")
        let c = harness.send("INCR", "n")
        harness.loop.run()
        #expect(try harness.channel.written() == wire("GET", "a") + wire("GET", "b") + wire("INCR", "n"))
        try harness.channel.writeInbound(bytes("$1\r\nA\r\n$-1\r\n:7\r\n"))
        #expect(try a.outcome?.get() == .bulkString(Array("A".utf8)))
        #expect(try b.outcome?.get() == .null)
        #expect(try c.outcome?.get() == .integer(7))
        #expect(harness.handler.statistics.replies == 4)  // PING included
    }

    @Test func commandsOfOneLoopTickLeaveInOneFlush() throws {
        let harness = try Harness.ready()
        let before = harness.handler.statistics
        let replies = (0..<50).map { harness.send("GET", "k\($0)") }
        #expect(try harness.channel.written().isEmpty, "flushed before the loop tick ended")
        harness.loop.run()
        let written = try harness.channel.written()
        #expect(written == (0..<50).map { wire("GET", "k\($0)") }.joined())
        #expect(harness.handler.statistics.writeBatches - before.writeBatches == 1)
        #expect(harness.handler.statistics.commandsSent - before.commandsSent == 50)
        // Replies split anywhere across reads still line up.
        let answers = (0..<50).map { "$\(String($0).count)\r\n\($0)\r\n" }.joined()
        var rest = Substring(answers)
        while !rest.isEmpty {
            let chunk = rest.prefix(7)
            rest = rest.dropFirst(7)
            try harness.channel.writeInbound(bytes(String(chunk)))
        }
        for (index, reply) in replies.enumerated() {
            #expect(try reply.outcome?.get() == .bulkString(Array(String(index).utf8)))
        }
    }

    @Test func anErrorReplyFailsOnlyItsCommand() throws {
        let harness = try Harness.ready()
        let wrong = harness.send("LPUSH", "s", "x")
        let fine = harness.send("GET", "s")
        harness.loop.run()
        try harness.channel.writeInbound(bytes("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n1\r\n"))
        let error = try #require(wrong.outcome?.redisError)
        #expect(error.code == .server && error.serverErrorPrefix == "WRONGTYPE")
        #expect(try fine.outcome?.get() == .bulkString(Array("1".utf8)))
        #expect(harness.channel.isActive && harness.closedError == nil)
    }

    @Test func losingTheConnectionFailsEveryCommandInFlight() throws {
        let harness = try Harness.ready()
        let replies = (0..<10).map { harness.send("GET", "k\($0)") }
        harness.loop.run()
        // Two answered, one half-answered, then the connection drops.
        try harness.channel.writeInbound(bytes("$-1\r\n$-1\r\n$5\r\nhal"))
        harness.channel.pipeline.fireChannelInactive()
        #expect(try replies[0].outcome?.get() == .null && replies[1].outcome?.get() == .null)
        for reply in replies.dropFirst(2) {
            let error = try #require(reply.outcome?.redisError, "a command in flight still hangs (or succeeded)")
            #expect(error.code == .unavailable && error.message == "connection to Redis at 127.0.0.1:6379 was lost")
        }
        #expect(harness.closedError?.code == .unavailable)
        #expect(harness.events.count == 2, "ready, then closed once: \(harness.events)")
        // Nothing sent afterwards is written or left hanging.
        let late = harness.send("GET", "late")
        #expect(late.outcome?.redisError?.code == .unavailable)
    }

    @Test func aCommandTimesOutAndItsLateReplyIsDropped() throws {
        let harness = try Harness.ready()
        let slow = harness.send("GET", "slow")
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(300))
        let next = harness.send("GET", "next")
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(200))
        #expect(slow.outcome?.redisError?.message == "command GET timed out after 500 ms at 127.0.0.1:6379")
        #expect(next.outcome == nil)
        try harness.channel.writeInbound(bytes("$4\r\nlate\r\n$4\r\nmine\r\n"))
        #expect(try next.outcome?.get() == .bulkString(Array("mine".utf8)))
        #expect(harness.handler.statistics.timeouts == 1 && harness.channel.isActive)
    }

    @Test func aServerThatStopsAnsweringIsDropped() throws {
        let harness = try Harness.ready()
        let stuck = harness.send("GET", "k")
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(500))
        let queued = harness.send("GET", "queued")
        harness.loop.run()
        #expect(stuck.outcome?.redisError?.code == .timeout)
        harness.loop.advanceTime(by: .milliseconds(500))
        #expect(harness.closedError?.message == "Redis at 127.0.0.1:6379 stopped answering")
        #expect(queued.outcome?.redisError?.code == .timeout)
        #expect(!harness.channel.isActive)
    }

    @Test func anUnsolicitedReplyClosesTheChannel() throws {
        let harness = try Harness.ready()
        try harness.channel.writeInbound(bytes(":1\r\n"))
        #expect(harness.closedError?.code == .protocolViolation)
        #expect(!harness.channel.isActive)

        let subscriber = try Harness.ready(pushes: true)
        try subscriber.channel.writeInbound(bytes("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"))
        #expect(subscriber.events.count == 2 && subscriber.channel.isActive)
    }

    /// Bytes behind the handshake's last reply, in the same read, cannot answer the commands the
    /// connection writes on `ready`: the server has not seen them. Taking them as answers would hand
    /// a stray value to a revocation check.
    @Test func bytesBehindTheHandshakeNeverAnswerTheFirstCommands() throws {
        let harness = Harness(adopt: false)
        let configuration = testConfiguration()
        var waiting: Reply?
        // Weak: the handler keeps this closure, and the harness keeps the handler.
        harness.handler.activate(RedisHandshake(configuration)) { [weak harness] event in
            harness?.events.append(event)
            if case .ready = event { waiting = harness?.send("GET", "revoked-token") }
        }
        _ = try harness.channel.written()
        try harness.channel.writeInbound(bytes("+PONG\r\n$-1\r\n"))
        let error = try #require(waiting?.outcome?.redisError)
        #expect(error.code == .protocolViolation)
        #expect(harness.closedError?.code == .protocolViolation)
    }

    @Test func theHandshakeSendsCredentialsAndReportsRefusal() throws {
        let harness = Harness {
            $0.password = "pw"; $0.database = 3; $0.clientName = "veto"
        }
        #expect(try harness.channel.written() == wire("AUTH", "pw") + wire("SELECT", "3") + wire("CLIENT", "SETNAME", "veto") + wire("PING"))
        try harness.channel.writeInbound(bytes("+OK\r\n-ERR DB index is out of range\r\n"))
        #expect(harness.closedError?.message == "SELECT 3 failed at 127.0.0.1:6379: ERR DB index is out of range")
        #expect(!harness.isReady && !harness.channel.isActive)
    }

    @Test func aHandshakeWithoutAnswerTimesOut() throws {
        let harness = Harness()
        harness.loop.advanceTime(by: .milliseconds(999))
        #expect(harness.events.isEmpty)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(harness.closedError?.message == "Redis at 127.0.0.1:6379 accepted the connection but did not answer within 1000 ms")
    }

    @Test func aChannelNeverAdoptedReportsNothing() throws {
        let harness = Harness(adopt: false)
        harness.channel.close(promise: nil)
        #expect(harness.events.isEmpty)
        #expect(try harness.channel.written().isEmpty)
    }

    @Test func theConnectionsCloseFailsCommandsWithoutAReport() throws {
        let harness = try Harness.ready()
        let pending = harness.send("GET", "k")
        harness.loop.run()
        _ = harness.handler.close(RedisError(.shutdown, "the Redis client for 127.0.0.1:6379 is closed"))
        harness.loop.run()
        #expect(pending.outcome?.redisError?.code == .shutdown)
        #expect(harness.events.count == 1 && !harness.channel.isActive)
    }
}
