import NIOCore
import NIOPosix
import Testing
import VetoRedis
import VetoTestSupport

/// What "round trip" means here: the client writes a batch of commands (one flush, one `writev`) and
/// then waits for replies. N commands cost N round trips without pipelining (write, wait, read, repeat)
/// and one with it. We count on both ends:
/// - client: ``RedisClientStatistics/writeBatches`` (flushes that carried commands) and
///   ``RedisClientStatistics/readEvents`` (socket reads that returned reply bytes);
/// - server: `INFO stats` `total_reads_processed` (every read(2) Redis did on a client socket) and
///   `INFO commandstats` `cmdstat_get:calls`, which proves all 200 commands really ran.
@Suite(.requiresRedisServer) struct RedisPipeliningTests {
    @Test func twoHundredCommandsFromOneLoopTickShareOneWrite() async throws {
        try await RedisServer.with { server async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let client = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"), eventLoopGroup: group)
            // A second client for INFO, so opening its connection adds no reads to the measured window.
            let observer = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"), eventLoopGroup: group)
            _ = try await client.send(RedisCommand("SET", "k0", "v"))
            let serverReadsBefore = try await totalReads(observer)
            let callsBefore = try await getCalls(observer)
            let before = try await client.statistics()

            // The data plane's shape: many checks issued on the event loop within one tick.
            let loop = group.next()
            let values = try await loop.flatSubmit {
                let futures = (0..<200).map { client.send(RedisCommand("GET", "k\($0 % 10)"), on: loop) }
                return EventLoopFuture.whenAllSucceed(futures, on: loop)
            }.get()

            let after = try await client.statistics()
            let serverReads = try await totalReads(observer) - serverReadsBefore - 1  // minus the INFO's own read
            let calls = try await getCalls(observer) - callsBefore
            #expect(values.count == 200)
            #expect(values.filter { $0 == .bulkString(Array("v".utf8)) }.count == 20)
            #expect(calls == 200)
            #expect(after.commandsSent - before.commandsSent == 200)
            let writes = after.writeBatches - before.writeBatches
            let reads = after.readEvents - before.readEvents
            // Measured: 1 write, 1 client read, 1 server read.
            #expect(writes == 1)
            #expect(reads <= 3)
            #expect(serverReads <= 3)
            print("pipelining from one loop tick: 200 GETs, \(writes) client writes, \(reads) client reads, \(serverReads) server reads")

            await observer.close()
            await client.close()
            try await group.shutdownGracefully()
        }
    }

    @Test func twoHundredConcurrentTasksNeedFarFewerRoundTrips() async throws {
        try await RedisServer.with { server async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let client = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"), eventLoopGroup: group)
            _ = try await client.send(RedisCommand("PING"))
            let before = try await client.statistics()

            try await withThrowingTaskGroup(of: RedisValue.self) { tasks in
                for index in 0..<200 {
                    tasks.addTask { try await client.send(RedisCommand("GET", "k\(index)")) }
                }
                for try await value in tasks { #expect(value == .null) }
            }

            let after = try await client.statistics()
            let writes = after.writeBatches - before.writeBatches
            let reads = after.readEvents - before.readEvents
            #expect(after.commandsSent - before.commandsSent == 200)
            // Tasks reach the loop one by one, so batches are smaller than in a single tick, but commands
            // that arrive while a flush is pending still share it.
            #expect(writes < 100)
            print("pipelining from 200 tasks: \(writes) client writes, \(reads) client reads")

            await client.close()
            try await group.shutdownGracefully()
        }
    }

    private func totalReads(_ client: RedisClient) async throws -> Int {
        try await infoField(client, "stats", "total_reads_processed")
    }

    private func getCalls(_ client: RedisClient) async throws -> Int {
        let line = try await infoLine(client, "commandstats", "cmdstat_get")
        // "calls=200,usec=…"
        let calls = line?.split(separator: ",").first { $0.hasPrefix("calls=") }?.dropFirst(6)
        return calls.flatMap { Int($0) } ?? 0
    }

    private func infoField(_ client: RedisClient, _ section: String, _ field: String) async throws -> Int {
        let line = try await infoLine(client, section, field)
        return try #require(line.flatMap { Int($0) })
    }

    private func infoLine(_ client: RedisClient, _ section: String, _ field: String) async throws -> String? {
        let text = try await client.send(RedisCommand("INFO", section)).string ?? ""
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0] == field { return String(parts[1]) }
        }
        return nil
    }
}
