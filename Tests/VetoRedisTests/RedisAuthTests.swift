import Testing
import VetoRedis
import VetoTestSupport

@Suite(.requiresRedisServer) struct RedisAuthTests {
    /// An ACL user `veto`, and a default user that needs a password too.
    static let serverArguments = ["--requirepass", "defaultpw", "--user", "veto", "on", ">vetopw", "~*", "&*", "+@all"]

    @Test func aclUserWithRightPasswordWorks() async throws {
        try await RedisServer.with(Self.serverArguments) { server async throws in
            try await withClient("redis://veto:vetopw@127.0.0.1:\(server.port)/0") { client async throws in
                #expect(try await client.send(RedisCommand("SET", "a", "1")) == .simpleString("OK"))
                #expect(try await client.send(RedisCommand("ACL", "WHOAMI")).string == "veto")
            }
        }
    }

    @Test func legacyPasswordWorks() async throws {
        try await RedisServer.with(Self.serverArguments) { server async throws in
            try await withClient("redis://:defaultpw@127.0.0.1:\(server.port)") { client async throws in
                #expect(try await client.send(RedisCommand("ACL", "WHOAMI")).string == "default")
            }
        }
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() async throws {
        try await RedisServer.with(Self.serverArguments) { server async throws in
            try await withClient("redis://veto:WrongSecret@127.0.0.1:\(server.port)/0") { client async throws in
                let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
                #expect(error.code == .authenticationFailed)
                #expect(error.message == "authentication failed for user 'veto' at 127.0.0.1:\(server.port)")
                #expect(!"\(error)".contains("WrongSecret"))
                #expect(!client.configuration.description.contains("WrongSecret"))
            }
        }
    }

    @Test func missingPasswordIsAClearError() async throws {
        try await RedisServer.with(Self.serverArguments) { server async throws in
            try await withClient("redis://127.0.0.1:\(server.port)/0") { client async throws in
                let error = try await #require(throws: RedisError.self) { try await client.send(RedisCommand("PING")) }
                #expect(error.code == .authenticationFailed)
                #expect(error.message == "Redis at 127.0.0.1:\(server.port) requires authentication and no password is configured")
            }
        }
    }
}
