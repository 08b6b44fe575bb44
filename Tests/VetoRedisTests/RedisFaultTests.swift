import Foundation
import NIOCore
import Testing
import VetoRedis
import VetoTestSupport

@Suite struct RedisFaultTests {
    @Test func refusedConnectionNamesTheEndpoint() async throws {
        let port = try RedisServer.freePort()
        try await withClient("redis://veto:pw@127.0.0.1:\(port)/0") { client async throws in
            let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
            #expect(error.code == .unavailable)
            #expect(error.message == "connection refused at 127.0.0.1:\(port)")
        }
    }

    @Test(.requiresRedisServer) func stoppedServerTripsTheCommandTimeout() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0", configure: { $0.commandTimeout = .milliseconds(200) }) { client async throws in
                _ = try await client.send(RedisCommand("PING"))
                server.pause()
                let started = Date()
                let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("GET", "k")) }
                let elapsed = Date().timeIntervalSince(started)
                server.resume()
                #expect(error.code == .timeout)
                #expect(error.message.hasPrefix("command GET timed out after 200 ms"))
                #expect(elapsed >= 0.15 && elapsed < 1.5, "took \(elapsed) s")
                // Once the server runs again, the same client answers again.
                try await poll("the client to answer after SIGCONT", timeout: 5) {
                    for _ in 0..<8 where (try? await client.send(RedisCommand("PING"))) != .simpleString("PONG") {
                        return false
                    }
                    return true
                }
            }
        }
    }

    @Test(.requiresRedisServer) func serverThatAcceptsButNeverAnswersTripsTheConnectTimeout() async throws {
        try await RedisServer.with { server async throws in
            server.pause()  // the kernel still completes TCP handshakes into the listen backlog
            defer { server.resume() }
            try await withClient(
                "redis://127.0.0.1:\(server.port)/0",
                configure: {
                    $0.connectTimeout = .milliseconds(300)
                    $0.commandTimeout = .seconds(5)
                }
            ) { client async throws in
                let started = Date()
                let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
                #expect(error.code == .timeout)
                #expect(error.message == "Redis at 127.0.0.1:\(server.port) accepted the connection but did not answer within 300 ms")
                // Well under the 5 s command timeout: the connect timeout tripped, not the command one.
                #expect(Date().timeIntervalSince(started) < 4)
            }
        }
    }

    @Test(.requiresRedisServer) func killedServerFailsEveryCommandAndTheClientRecovers() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0") { client async throws in
                #expect(try await client.send(RedisCommand("SET", "k", "v")) == .simpleString("OK"))

                // Commands in flight while the server dies, and every command during the outage, fail.
                let inFlight = (0..<50).map { _ in client.send(RedisCommand("GET", "k"), on: client.eventLoopGroup.any()) }
                try await server.killHard()
                for future in inFlight {
                    do {
                        #expect(try await future.get() == .bulkString(Array("v".utf8)))  // answered before the kill
                    } catch let error as RedisError {
                        #expect(error.code == .unavailable)
                    }
                }
                for _ in 0..<100 {
                    let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("GET", "k")) }
                    #expect(error.code == .unavailable, "\(error)")
                }
                let stats = try await client.statistics()
                #expect(stats.failedConnects >= 1)

                try await server.restart()
                let restarted = Date()
                // Every connection (one per event loop) must be back, so ask until several in a row answer.
                try await poll("the client to reconnect", timeout: 2) {
                    for _ in 0..<8 where (try? await client.send(RedisCommand("PING"))) != .simpleString("PONG") {
                        return false
                    }
                    return true
                }
                print("recovered \(Date().timeIntervalSince(restarted)) s after the restart")
                // The restarted server is empty: a value now is the server's, not a stale one.
                #expect(try await client.send(RedisCommand("GET", "k")) == .null)
            }
        }
    }

    @Test(.requiresRedisServer) func fullQueueIsAClearOverloadError() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0", configure: { $0.maxPendingCommands = 16 }) { client async throws in
                _ = try await client.send(RedisCommand("PING"))
                let loop = client.eventLoopGroup.next()
                let results = try await loop.flatSubmit {
                    let futures = (0..<100).map { _ in client.send(RedisCommand("PING"), on: loop) }
                    return EventLoopFuture.whenAllComplete(futures, on: loop)
                }.get()
                let accepted = results.filter { (try? $0.get()) == .simpleString("PONG") }.count
                let refused = results.compactMap { result -> RedisError? in
                    if case .failure(let error as RedisError) = result { return error }
                    return nil
                }
                #expect(accepted == 16)
                #expect(refused.count == 84)
                #expect(refused.allSatisfy { $0.code == .overloaded })
                #expect(
                    refused.first?.message == "Redis client overloaded: 16 commands already pending on the connection to 127.0.0.1:\(server.port)")
            }
        }
    }
}
