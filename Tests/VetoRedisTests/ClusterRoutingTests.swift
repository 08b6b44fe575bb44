import Testing

@testable import VetoRedis

/// The pure parts of Redis Cluster support: key slots, redirect replies, the slot map.
@Suite struct ClusterRoutingTests {
    /// CRC16/XMODEM check value, and slots that redis-cli's `CLUSTER KEYSLOT` prints for these keys.
    @Test(arguments: [("123456789", 0x31C3)])
    func crc16CheckValue(_ input: String, _ expected: Int) {
        #expect(KeySlot.crc16(Array(input.utf8)) == UInt16(expected))
    }

    @Test(arguments: [
        ("foo", 12182), ("bar", 5061), ("hello", 866), ("", 0),
        ("veto:j:24:https://auth.example.com:abc", KeySlot.slot(of: Array("veto:j:24:https://auth.example.com:abc".utf8)))
    ])
    func slotsOfKeys(_ key: String, _ slot: Int) {
        #expect(KeySlot.slot(of: Array(key.utf8)) == slot)
    }

    /// The hash tag rules of the Redis Cluster specification.
    @Test func hashTagsFollowTheSpecification() {
        func slot(_ key: String) -> Int { KeySlot.slot(of: Array(key.utf8)) }
        #expect(slot("{user1000}.following") == slot("{user1000}.followers"))
        #expect(slot("{user1000}.following") == slot("user1000"))
        // Only the first { and the first } after it count.
        #expect(slot("foo{bar}{zap}") == slot("bar"))
        #expect(slot("foo{{bar}}zap") == slot("{bar"))
        // An empty tag hashes the whole key.
        #expect(slot("foo{}{bar}") == Int(KeySlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        #expect(slot("foo{bar") == Int(KeySlot.crc16(Array("foo{bar".utf8)) & 0x3FFF))
    }

    @Test func routingKeysOfVetoCommands() {
        let key = Array("veto:j:1:x:y".utf8)
        #expect(RedisCommand("GET", [key]).routingKey == key)
        #expect(RedisCommand("EVALSHA", [Array("abc".utf8), Array("1".utf8), key, Array("v".utf8)]).routingKey == key)
        #expect(RedisCommand("EVAL", [Array("return 1".utf8), Array("0".utf8)]).routingKey == nil)
        #expect(RedisCommand("PING").routingKey == nil)
        #expect(RedisCommand("SCAN", "0").routingKey == nil)
        #expect(RedisCommand("WAIT", [Array("1".utf8), Array("100".utf8)], routingKey: key).routingKey == key)
    }

    @Test func parsesMovedAndAsk() throws {
        let moved = try #require(ClusterRedirect("MOVED 3999 127.0.0.1:6381"))
        #expect(moved.kind == .moved && moved.slot == 3999 && moved.host == "127.0.0.1" && moved.port == 6381)
        let ask = try #require(ClusterRedirect("ASK 16383 redis-2.internal:7002"))
        #expect(ask.kind == .ask && ask.slot == 16383 && ask.host == "redis-2.internal" && ask.port == 7002)
        let ipv6 = try #require(ClusterRedirect("MOVED 1 ::1:7000"))
        #expect(ipv6.host == "::1" && ipv6.port == 7000)
        // A node that does not know its own address sends an empty host: the answering node's host it is.
        let unknown = try #require(ClusterRedirect("MOVED 5 :7005"))
        #expect(unknown.host == nil)
        #expect(unknown.endpoint(answeredBy: .tcp(host: "10.1.1.1", port: 7000)) == .tcp(host: "10.1.1.1", port: 7005))
        for other in ["ERR unknown command", "MOVED 16384 h:1", "MOVED x h:1", "ASK 1 h", "MOVED 1 h:0", "READONLY You can't write", "MOVED 1"] {
            #expect(ClusterRedirect(other) == nil, "\(other)")
        }
    }

    @Test func slotMapFromClusterSlots() throws {
        func node(_ host: String, _ port: Int64) -> RedisValue {
            .array([.bulkString(Array(host.utf8)), .integer(port), .bulkString(Array("id".utf8))])
        }
        let reply = RedisValue.array([
            .array([.integer(5461), .integer(10922), node("127.0.0.1", 7001), node("127.0.0.1", 7004)]),
            .array([.integer(0), .integer(5460), node("127.0.0.1", 7000)]),
            .array([.integer(10923), .integer(16000), node("", 7002)]),
            .array([.integer(16001), .integer(16383), node("127.0.0.1", 7000)])
        ])
        var map = try ClusterSlotMap(slotsReply: reply, answeredBy: .tcp(host: "10.0.0.9", port: 7000))
        #expect(map.masters == [.tcp(host: "127.0.0.1", port: 7000), .tcp(host: "127.0.0.1", port: 7001), .tcp(host: "10.0.0.9", port: 7002)])
        #expect(map.master(forSlot: 0) == .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.master(forSlot: 5461) == .tcp(host: "127.0.0.1", port: 7001))
        #expect(map.master(forSlot: 12000) == .tcp(host: "10.0.0.9", port: 7002))
        #expect(map.master(forSlot: 16383) == .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.unassignedSlots == 0)
        map.assign(slot: 12000, to: .tcp(host: "127.0.0.1", port: 7003))
        #expect(map.master(forSlot: 12000) == .tcp(host: "127.0.0.1", port: 7003))
        #expect(map.master(forSlot: 12001) == .tcp(host: "10.0.0.9", port: 7002))

        let partial = try ClusterSlotMap(
            slotsReply: .array([.array([.integer(0), .integer(99), node("h", 1)])]), answeredBy: .tcp(host: "h", port: 1))
        #expect(partial.master(forSlot: 100) == nil && partial.unassignedSlots == 16384 - 100)
        #expect(throws: RedisError.self) {
            try ClusterSlotMap(slotsReply: .array([.array([.integer(5), .integer(1), node("h", 1)])]), answeredBy: .tcp(host: "h", port: 1))
        }
        #expect(throws: RedisError.self) { try ClusterSlotMap(slotsReply: .simpleString("OK"), answeredBy: .tcp(host: "h", port: 1)) }
    }

    @Test func sentinelReplicaChoiceSkipsDownAndLaggingReplicas() {
        func replica(_ port: String, flags: String, link: String) -> RedisValue {
            .array(
                ["name", "127.0.0.1:\(port)", "ip", "127.0.0.1", "port", port, "flags", flags, "master-link-status", link].map {
                    .bulkString(Array($0.utf8))
                })
        }
        let reply = RedisValue.array([
            replica("7001", flags: "slave,s_down", link: "ok"), replica("7002", flags: "slave", link: "err"),
            replica("7003", flags: "slave", link: "ok")
        ])
        #expect(SentinelRouter.healthyReplica(reply) == .tcp(host: "127.0.0.1", port: 7003))
        #expect(SentinelRouter.healthyReplica(.array([])) == nil)
    }
}
