import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import VetoRedis

/// A whole ``RedisConnection`` on an embedded loop: its connector hands out embedded channels (or
/// fails), so reconnects, backoff and shutdown run for real, in embedded time.
@Suite struct RedisConnectionEmbeddedTests {
    final class Harness {
        let loop = EmbeddedEventLoop()
        /// Every channel the connection opened, oldest first.
        let channels = Cell<[EmbeddedChannel]>([])
        /// While set, connects fail with it.
        let refuse = Cell<RedisError?>(nil)
        let connection: RedisConnection

        init(_ configure: (inout RedisConfiguration) -> Void = { _ in }) {
            let configuration = testConfiguration {
                $0.initialReconnectDelay = .milliseconds(50)
                $0.maxReconnectDelay = .milliseconds(400)
                configure(&$0)
            }
            let (loop, channels, refuse) = (loop, channels, refuse)
            connection = RedisConnection(
                eventLoop: loop, configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                connector: { settings in
                    if let error = refuse.value { return loop.makeFailedFuture(error) }
                    let channel = EmbeddedChannel.connected(RedisChannelHandler(settings: settings), loop: loop)
                    channels.value.append(channel)
                    return loop.makeSucceededFuture(channel)
                })
            connection.start()
            loop.run()
        }

        var channel: EmbeddedChannel { channels.value.last! }

        /// Closes the connection and every channel it opened, so that nothing is left in a cycle
        /// (LeakSanitizer reports an open EmbeddedChannel and its pipeline).
        deinit {
            _ = connection.close()
            loop.run()
            for channel in channels.value { channel.close(promise: nil) }
            loop.run()
        }

        /// Answers the PING handshake of the newest channel.
        func handshake() throws {
            #expect(try channel.written() == wire("PING"))
            try channel.writeInbound(bytes("+PONG\r\n"))
            loop.run()
        }

        func send(_ name: String, _ arguments: String...) -> Reply {
            let reply = Reply()
            connection.send([RedisCommand(name, arguments)]) { results in reply.outcome = results[0] }
            return reply
        }

        func statistics() throws -> RedisClientStatistics {
            let future = connection.statistics()
            loop.run()
            return try #require(future.outcome).get()
        }
    }

    @Test func commandsSentBeforeReadyGoOutAfterTheHandshake() throws {
        let harness = Harness()
        let early = harness.send("GET", "a")
        harness.loop.run()
        #expect(try harness.channel.written() == wire("PING"), "a command went out before the handshake")
        try harness.channel.writeInbound(bytes("+PONG\r\n"))
        harness.loop.run()
        #expect(try harness.channel.written() == wire("GET", "a"))
        try harness.channel.writeInbound(bytes("$1\r\nA\r\n"))
        #expect(try early.outcome?.get() == .bulkString(Array("A".utf8)))
    }

    @Test func aLostChannelFailsItsCommandsAndTheNextChannelStartsClean() throws {
        let harness = Harness()
        try harness.handshake()
        let inFlight = (0..<5).map { harness.send("GET", "k\($0)") }
        harness.loop.run()
        let old = harness.channel
        old.pipeline.fireChannelInactive()
        for reply in inFlight {
            #expect(reply.outcome?.redisError?.code == .unavailable, "a command in flight did not fail")
        }
        // Reconnected at once; a command now waits for the new channel's handshake.
        #expect(harness.channels.value.count == 2)
        let next = harness.send("GET", "k0")
        harness.loop.run()
        #expect(next.outcome == nil)
        try harness.handshake()
        #expect(try harness.channel.written() == wire("GET", "k0"))
        // Bytes on the old channel reach nothing; the new channel's reply answers the new command.
        _ = try? old.writeInbound(bytes("$7\r\nrevoked\r\n"))
        #expect(next.outcome == nil)
        try harness.channel.writeInbound(bytes("$-1\r\n"))
        #expect(try next.outcome?.get() == .null)
        let stats = try harness.statistics()
        #expect(stats.connects == 2 && stats.commandsSent == 6)
    }

    @Test func failedConnectsBackOffAndCommandsFailFast() throws {
        let harness = Harness()
        try harness.handshake()
        harness.refuse.value = RedisError(.unavailable, "connection refused at 127.0.0.1:6379")
        harness.channel.pipeline.fireChannelInactive()
        // The immediate reconnect was refused: back off 50 ms, then 100 ms.
        #expect(harness.channels.value.count == 1)
        let fast = harness.send("GET", "k")
        #expect(fast.outcome?.redisError?.message == "connection refused at 127.0.0.1:6379")
        harness.loop.advanceTime(by: .milliseconds(49))
        #expect(try harness.statistics().failedConnects == 1)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(try harness.statistics().failedConnects == 2)
        harness.refuse.value = nil
        harness.loop.advanceTime(by: .milliseconds(99))
        #expect(harness.channels.value.count == 1)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(harness.channels.value.count == 2)
        let waiting = harness.send("PING")
        try harness.handshake()
        try harness.channel.writeInbound(bytes("+PONG\r\n"))
        #expect(try waiting.outcome?.get() == .simpleString("PONG"))
    }

    @Test func aCommandWaitingForAConnectionTimesOut() throws {
        let harness = Harness()
        let waiting = harness.send("GET", "k")
        harness.loop.advanceTime(by: .milliseconds(500))
        #expect(waiting.outcome?.redisError?.message == "command GET timed out after 500 ms waiting for a connection to 127.0.0.1:6379")
    }

    @Test func aStuckServerIsReplacedByANewChannel() throws {
        let harness = Harness()
        try harness.handshake()
        let stuck = harness.send("GET", "k")
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(500))
        #expect(stuck.outcome?.redisError?.code == .timeout)
        harness.loop.advanceTime(by: .milliseconds(500))
        #expect(harness.channels.value.count == 2 && !harness.channels.value[0].isActive)
    }

    @Test func closingFailsEverythingAndStopsReconnecting() throws {
        let harness = Harness()
        try harness.handshake()
        let inFlight = harness.send("GET", "k")
        harness.loop.run()
        let closed = harness.connection.close()
        harness.loop.run()
        #expect(closed.outcome != nil)
        #expect(inFlight.outcome?.redisError?.code == .shutdown)
        #expect(harness.send("GET", "k").outcome?.redisError?.code == .shutdown)
        harness.loop.advanceTime(by: .seconds(5))
        #expect(harness.channels.value.count == 1)
    }
}
