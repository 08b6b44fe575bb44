import NIOCore
import NIOPosix
import Testing
import VetoRedis
import VetoTestSupport

/// `send(_:on:read:then:)`, the check path's way to Redis: one callback for a batch, with every
/// reply in order, called exactly once on the caller's loop, whatever happens to the commands.
@Suite(.requiresRedisServer) struct RedisBatchTests {
    /// Counts callbacks; only touched on the loop the batch was sent from.
    private final class Calls: @unchecked Sendable {
        var count = 0
    }

    /// Sends `commands` from `loop` and returns what the callback got, checking it ran once, on `loop`.
    private func batch(_ client: RedisClient, _ commands: [RedisCommand], from loop: any EventLoop) async throws
        -> [Result<RedisValue, any Error>]
    {
        let calls = Calls()
        let promise = loop.makePromise(of: [Result<RedisValue, any Error>].self)
        loop.execute {
            client.send(commands, on: loop) { results in
                #expect(loop.inEventLoop, "the callback runs on the caller's loop")
                calls.count += 1
                if calls.count == 1 { promise.succeed(results) }
            }
        }
        let results = try await promise.futureResult.get()
        // A second call would come on the same loop; wait a little for one to show up.
        let count = try await loop.scheduleTask(in: .milliseconds(50)) { calls.count }.futureResult.get()
        #expect(count == 1, "the callback runs exactly once")
        return results
    }

    @Test func repliesComeInOrderOnceOnTheCallersLoop() async throws {
        try await RedisServer.with { server async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let outside = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            try await withClient("redis://127.0.0.1:\(server.port)/0", group: group) { client async throws in
                _ = try await client.send(RedisCommand("SET", "a", "1"))
                _ = try await client.send(RedisCommand("SET", "b", "2"))
                let commands = [
                    RedisCommand("GET", "a"), RedisCommand("GET", "missing"), RedisCommand("GET", "b"),
                    RedisCommand("INCR", "a"), RedisCommand("HGET", "a", "f")
                ]
                // From one of the client's loops (no hop) and from a loop outside its group (hop back).
                for loop in [group.next(), outside.next()] {
                    let results = try await batch(client, commands, from: loop)
                    #expect(results.count == 5)
                    #expect((try? results[0].get()) == .bulkString(Array("1".utf8)) || (try? results[0].get()) == .bulkString(Array("2".utf8)))
                    #expect((try? results[1].get()) == .null)
                    #expect((try? results[2].get()) == .bulkString(Array("2".utf8)))
                    #expect((try? results[3].get())?.integer != nil)
                    // An error reply fails its own slot and only that one.
                    guard case .failure(let error as RedisError) = results[4] else {
                        Issue.record("HGET on a string should fail, got \(results[4])")
                        continue
                    }
                    #expect(error.serverMessage?.hasPrefix("WRONGTYPE") == true)
                }
            }
            try await outside.shutdownGracefully()
            try await group.shutdownGracefully()
        }
    }

    @Test func aStoppedServerFailsEverySlotWithATimeout() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0", configure: { $0.commandTimeout = .milliseconds(200) }) { client async throws in
                _ = try await client.send(RedisCommand("PING"))
                server.pause()
                defer { server.resume() }
                let results = try await batch(client, [RedisCommand("GET", "j"), RedisCommand("GET", "s")], from: client.eventLoopGroup.next())
                #expect(results.count == 2)
                for result in results {
                    guard case .failure(let error as RedisError) = result else {
                        Issue.record("expected a timeout, got \(result)")
                        continue
                    }
                    #expect(error.code == .timeout)
                }
            }
        }
    }

    @Test func aKilledServerFailsTheBatchAndAFullQueueRefusesWhatDoesNotFit() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0", configure: { $0.maxPendingCommands = 4 }) { client async throws in
                _ = try await client.send(RedisCommand("PING"))
                let loop = client.eventLoopGroup.next()
                // Six commands, room for four: two are refused at once, four answered, one callback.
                let crowded = try await batch(client, (0..<6).map { _ in RedisCommand("PING") }, from: loop)
                let refused = crowded.compactMap { result -> RedisError? in
                    if case .failure(let error as RedisError) = result { return error }
                    return nil
                }
                #expect(crowded.filter { (try? $0.get()) == .simpleString("PONG") }.count == 4)
                #expect(refused.count == 2 && refused.allSatisfy { $0.code == .overloaded })

                try await server.killHard()
                let down = try await batch(client, [RedisCommand("GET", "j"), RedisCommand("GET", "s")], from: loop)
                #expect(down.count == 2)
                for result in down {
                    guard case .failure(let error as RedisError) = result else {
                        Issue.record("expected the outage to fail the command, got \(result)")
                        continue
                    }
                    #expect(error.code == .unavailable || error.code == .timeout, "\(error)")
                }
            }
        }
    }
}
