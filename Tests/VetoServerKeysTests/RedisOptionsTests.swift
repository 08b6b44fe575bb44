import NIOCore
import Testing
import VetoRedis
import VetoServer

/// The Redis settings of `veto serve`: config keys, multi-host URLs with a password, and the checks
/// made before anything connects.
@Suite struct RedisOptionsTests {
    @Test func configKeysUnderRedis() throws {
        let configuration = try ConfigurationFile.parse(
            """
            redis:
              url: rediss-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster
              ca_file: tls/ca.pem
              cert_file: /etc/veto/client.pem
              key_file: /etc/veto/client.key
              tls_server_name: redis.internal
              wait_replicas: 2
              wait_timeout: 0.5
              read_from: replica
            """, baseDirectory: "/etc/veto", environment: [:])
        let options = configuration.redisOptions
        #expect(options.caFile == "/etc/veto/tls/ca.pem")
        #expect(options.certificateFile == "/etc/veto/client.pem" && options.keyFile == "/etc/veto/client.key")
        #expect(options.serverName == "redis.internal" && options.waitReplicas == 2 && options.waitTimeout == 0.5)
        #expect(options.readFrom == "replica")
        #expect(throws: ConfigurationError.self) {
            try ConfigurationFile.parse("redis:\n  url: redis://h/0\n  wait_replica: 1\n", baseDirectory: "", environment: [:])
        }
    }

    @Test func passwordGoesIntoMultiHostURLs() throws {
        for url in [
            "redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster", "redis-cluster://veto@h1:7000,h2:7000",
            "redis://127.0.0.1:6390/2", "unix:///run/redis.sock?db=1"
        ] {
            #expect(!RedisURL.hasPassword(url))
            let withPassword = try RedisURL.withPassword(url, password: "p@ss:w/rd", field: "test")
            #expect(RedisURL.hasPassword(withPassword))
            let parsed = try RedisConfiguration(url: withPassword)
            #expect(parsed.password == "p@ss:w/rd", "\(url)")
            #expect(!parsed.description.contains("p@ss"))
        }
        #expect(try RedisConfiguration(url: RedisURL.withPassword("redis-cluster://veto@h1:7000", password: "x", field: "t")).username == "veto")
    }

    @Test func settingsAreCheckedBeforeConnecting() throws {
        var options = RedisOptions()
        options.waitReplicas = 1
        options.waitTimeout = 0.25
        let redis = try options.configuration(url: "redis-cluster://127.0.0.1:7000")
        #expect(redis.replicasToConfirm == 1 && redis.replicationTimeout == .milliseconds(250))

        var tlsOnPlain = RedisOptions()
        tlsOnPlain.caFile = "/nonexistent/ca.pem"
        #expect(throws: ConfigurationError.self) { try tlsOnPlain.configuration(url: "redis://127.0.0.1/0") }
        // A CA file that cannot be read stops the start, naming the file.
        do {
            _ = try tlsOnPlain.configuration(url: "rediss://127.0.0.1/0")
            Issue.record("an unreadable CA file was accepted")
        } catch {
            #expect(error.problem.contains("/nonexistent/ca.pem"), "\(error)")
        }
        var replicaReads = RedisOptions()
        replicaReads.readFrom = "replica"
        #expect(throws: ConfigurationError.self) { try replicaReads.configuration(url: "redis-cluster://127.0.0.1:7000") }
        #expect(try replicaReads.configuration(url: "redis-sentinel://127.0.0.1:26379/m").readFrom == .replica)
        replicaReads.readFrom = "nearest"
        #expect(throws: ConfigurationError.self) { try replicaReads.configuration(url: "redis-sentinel://127.0.0.1:26379/m") }
    }
}
