import NIOCore
import Testing
import VetoRedis
import VetoTestSupport

@Suite(.requiresRedisServer) struct RedisReplyTests {
    @Test func errorRepliesAreErrorsNeverValues() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0") { client async throws in
                _ = try await client.send(RedisCommand("SET", "s", "1"))
                let wrongType = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("LPUSH", "s", "x")) }
                #expect(wrongType.code == .server)
                #expect(wrongType.serverErrorPrefix == "WRONGTYPE")

                let unknown = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("NOSUCHCOMMAND")) }
                #expect(unknown.serverErrorPrefix == "ERR")

                // An error nested in an array reply (EXEC) fails the whole reply too.
                let replies = client.send(
                    [RedisCommand("MULTI"), RedisCommand("SET", "t", "1"), RedisCommand("LPUSH", "t", "x"), RedisCommand("EXEC")],
                    on: client.eventLoopGroup.any()
                )
                #expect(try await replies[0].get() == .simpleString("OK"))
                #expect(try await replies[1].get() == .simpleString("QUEUED"))
                #expect(try await replies[2].get() == .simpleString("QUEUED"))
                let nested = try await #require(throws: RedisError.self) { try await replies[3].get() }
                #expect(nested.serverErrorPrefix == "WRONGTYPE")

                // The connection is still in step after all those errors.
                #expect(try await client.send(RedisCommand("GET", "s")) == .bulkString(Array("1".utf8)))
            }
        }
    }

    @Test func valuesAreBinarySafe() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0") { client async throws in
                let key: [UInt8] = [0x00, 0x0D, 0x0A, 0x20, 0x3A, 0xFF, 0xC3]
                let value: [UInt8] = Array("line\r\nnext \0 é ".utf8) + [0xFE, 0x00]
                _ = try await client.send(RedisCommand("SET", [key, value]))
                #expect(try await client.send(RedisCommand("GET", [key])) == .bulkString(value))
                #expect(try await client.send(RedisCommand("GET", [[]])) == .null)
                #expect(try await client.send(RedisCommand("STRLEN", [key])) == .integer(Int64(value.count)))
                _ = try await client.send(RedisCommand("RPUSH", "list", "a", "", "c"))
                #expect(
                    try await client.send(RedisCommand("LRANGE", "list", "0", "-1"))
                        == .array([
                            .bulkString(Array("a".utf8)), .bulkString([]), .bulkString(Array("c".utf8))
                        ]))
            }
        }
    }

    @Test func scriptsFallBackToEvalAfterScriptFlush() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0") { client async throws in
                let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
                #expect(script.sha1 == server.cli("SCRIPT", "LOAD", script.source))
                #expect(try await client.evaluate(script, keys: [Array("n".utf8)], arguments: [Array("2".utf8)]) == .integer(2))
                _ = try await client.send(RedisCommand("SCRIPT", "FLUSH"))
                #expect(try await client.evaluate(script, keys: [Array("n".utf8)], arguments: [Array("3".utf8)]) == .integer(5))
                let failing = RedisScript("return redis.error_reply('NOPE not today')")
                let error = try await #require(throws: RedisError.self) {
                    try await client.evaluate(failing, keys: [], arguments: [])
                }
                #expect(error.serverErrorPrefix == "NOPE")
            }
        }
    }

    @Test func unixSocketWithSelect() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("unix://\(server.unixSocketPath)?db=3") { client async throws in
                _ = try await client.send(RedisCommand("SET", "where", "db3"))
                #expect(server.cli("-n", "3", "GET", "where") == "db3")
                #expect(server.cli("-n", "0", "EXISTS", "where") == "0")
                #expect(client.configuration.description == "unix://\(server.unixSocketPath)?db=3")
            }
        }
    }

    @Test func selectOfAMissingDatabaseIsAClearError() async throws {
        try await RedisServer.with { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/99") { client async throws in
                let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
                #expect(error.code == .invalidConfiguration)
                #expect(error.message.hasPrefix("SELECT 99 failed at 127.0.0.1:\(server.port)"))
            }
        }
    }
}
