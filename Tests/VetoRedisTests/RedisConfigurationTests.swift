import Testing
import VetoRedis

@Suite struct RedisConfigurationTests {
    @Test func parsesTCPURLWithACLUserPasswordAndDatabase() throws {
        let configuration = try RedisConfiguration(url: "redis://veto:s3cr%40t@127.0.0.1:6390/2")
        #expect(configuration.endpoint == .tcp(host: "127.0.0.1", port: 6390))
        #expect(configuration.username == "veto")
        #expect(configuration.password == "s3cr@t")
        #expect(configuration.database == 2)
    }

    @Test func appliesDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://cache.internal")
        #expect(configuration.endpoint == .tcp(host: "cache.internal", port: 6379))
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
        #expect(configuration.database == 0)
    }

    @Test func passwordOnlyMeansLegacyAuth() throws {
        let configuration = try RedisConfiguration(url: "redis://:hunter2@localhost:6379/0")
        #expect(configuration.username == nil)
        #expect(configuration.password == "hunter2")
    }

    @Test func parsesIPv6Host() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(configuration.endpoint == .tcp(host: "::1", port: 7000))
        #expect(configuration.endpoint.description == "[::1]:7000")
    }

    @Test func parsesUnixSocketURL() throws {
        let configuration = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=3")
        #expect(configuration.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(configuration.database == 3)
        let withPassword = try RedisConfiguration(url: "unix://veto:pw@/tmp/r.sock")
        #expect(withPassword.endpoint == .unix(path: "/tmp/r.sock"))
        #expect(withPassword.username == "veto")
        #expect(withPassword.password == "pw")
    }

    @Test(arguments: [
        "http://localhost:6379", "redis://localhost:70000", "redis://localhost:port/0", "redis://localhost/db",
        "unix://relative.sock", "redis://", "localhost:6379", "unix:///tmp/r.sock?foo=1",
        "redis://a:1,b:2/0", "redis-sentinel://h:26379", "redis-sentinel://h:26379/", "redis-sentinel://,h/m",
        "redis-cluster://h:7000/3", "redis-cluster://h:7000?db=1", "redis-cluster://h:x"
    ])
    func rejectsInvalidURLs(_ url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
    }

    @Test func descriptionsAndErrorsNeverShowThePassword() throws {
        let secret = "Sup3rS3cret"
        let configuration = try RedisConfiguration(url: "redis://veto:\(secret)@127.0.0.1:6390/0")
        #expect(configuration.description == "redis://veto:***@127.0.0.1:6390/0")
        #expect(!String(reflecting: configuration).contains(secret))
        #expect(!"\(configuration)".contains(secret))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains(secret))
        #expect(dumped.contains("***"))

        for bad in ["redis://veto:\(secret)@127.0.0.1:notaport/0", "redis://veto:\(secret)@127.0.0.1:6390/x", "redis://veto:\(secret)%zz@h/0"] {
            do {
                _ = try RedisConfiguration(url: bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(!error.message.contains(secret), "\(error.message)")
                #expect(error.code == .invalidConfiguration)
            }
        }
    }

    @Test func parsesTLSSentinelAndClusterURLs() throws {
        let tls = try RedisConfiguration(url: "rediss://cache.internal:6380/1")
        #expect(tls.endpoint == .tcp(host: "cache.internal", port: 6380))
        #expect(tls.tls != nil && tls.topology == .standalone && tls.database == 1)
        #expect(tls.description == "rediss://cache.internal:6380/1")

        let sentinel = try RedisConfiguration(url: "redis-sentinel://veto:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster?db=2")
        #expect(
            sentinel.topology
                == .sentinel(
                    masterName: "mymaster",
                    sentinels: [
                        .tcp(host: "10.0.0.1", port: 26379), .tcp(host: "10.0.0.2", port: 26379), .tcp(host: "::1", port: 26380)
                    ]))
        #expect(sentinel.tls == nil && sentinel.database == 2 && sentinel.password == "pw")
        #expect(sentinel.description == "redis-sentinel://veto:***@10.0.0.1:26379,10.0.0.2:26379,[::1]:26380/mymaster?db=2")

        let cluster = try RedisConfiguration(url: "rediss-cluster://127.0.0.1:7000,127.0.0.1:7001")
        #expect(cluster.topology == .cluster(seeds: [.tcp(host: "127.0.0.1", port: 7000), .tcp(host: "127.0.0.1", port: 7001)]))
        #expect(cluster.tls != nil)
        #expect(cluster.description == "rediss-cluster://127.0.0.1:7000,127.0.0.1:7001")
    }
}
