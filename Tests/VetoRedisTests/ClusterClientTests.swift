import Foundation
import NIOCore
import NIOPosix
import Testing
import VetoRedis
import VetoTestSupport

/// The cluster client against three real cluster-enabled redis-servers joined by
/// `redis-cli --cluster create`.
@Suite(.requiresRedisServer) struct ClusterClientTests {
    /// The bus port is given: the default, port + 10000, does not exist for a port above 55535.
    static func clusterArguments() throws -> [String] {
        [
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
            "--cluster-port", String(try RedisServer.freePort())
        ]
    }

    /// Commands for two nodes leave together and each completes on its own node's reply: with one node
    /// stopped, the other node's command still answers at once instead of waiting behind it.
    @Test func commandsForDifferentNodesGoOutInParallel() async throws {
        try await RedisServer.with(try Self.clusterArguments()) { a async throws in
            try await RedisServer.with(try Self.clusterArguments()) { b async throws in
                try await RedisServer.with(try Self.clusterArguments()) { c async throws in
                    let servers = [a, b, c]
                    let created = a.cli(
                        ["--cluster", "create"] + servers.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "0", "--cluster-yes"])
                    #expect(created.contains("All 16384 slots covered"), "\(created)")
                    try await poll("cluster_state:ok on every node", timeout: 20) {
                        servers.allSatisfy { $0.cli("CLUSTER", "INFO").contains("cluster_state:ok") }
                    }
                    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
                    var configuration = try RedisConfiguration(url: "redis-cluster://127.0.0.1:\(a.port)")
                    configuration.commandTimeout = .milliseconds(1500)
                    let client = RedisClient(configuration: configuration, eventLoopGroup: group)

                    // Keys land on every node, each where its slot says.
                    var owner: [String: RedisServer] = [:]
                    for index in 0..<30 {
                        let key = "key-\(index)"
                        #expect(try await client.send(RedisCommand("SET", key, "v\(index)")) == .simpleString("OK"))
                        owner[key] = servers.first { $0.cli("EXISTS", key) == "1" }
                    }
                    #expect(Set(owner.values.map(\.port)).count == 3, "keys should spread over the three masters")

                    let onA = try #require(owner.first { $0.value === a }?.key)
                    let onB = try #require(owner.first { $0.value === b }?.key)
                    b.pause()
                    let started = Date()
                    let loop = group.next()
                    // B's command first: a client that waited for it before sending or completing A's would stall.
                    let futures = client.send([RedisCommand("GET", onB), RedisCommand("GET", onA)], on: loop)
                    let fromA = try await futures[1].get()
                    let elapsed = Date().timeIntervalSince(started)
                    #expect(fromA.string?.hasPrefix("v") == true)
                    #expect(elapsed < 1.0, "A's reply took \(elapsed) s while B was stopped")
                    await #expect(throws: RedisError.self) { try await futures[0].get() }
                    b.resume()
                    await client.close()
                    try await group.shutdownGracefully()
                }
            }
        }
    }
}
