import Foundation
import Logging
import Testing
import VetoRedis
import VetoStore
import VetoTestSupport

/// The stores the contract suite runs against: Redis, Redis behind a current replica (bounded
/// consistency), and the embedded store.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case redis, replicated, embedded

    /// Whether a redis-server is behind the store.
    var usesRedis: Bool { self != .embedded }

    var testDescription: String { rawValue }

    /// The stores this machine can test: without redis-server, only the embedded one (the contract
    /// suite says so in a skipped test, `coversRedis`).
    static let testable: [StoreKind] = RedisServer.isAvailable ? allCases : [.embedded]
}

/// A store under test plus a look behind it: the Redis server, or the data dir.
struct StoreFixture: Sendable {
    let kind: StoreKind
    let store: any Blocklist
    let redis: RedisServer?
    let directory: URL?

    /// The Redis key of a token entry, as KEYS.md documents it.
    static func tokenKey(issuer: String, jti: String, prefix: String = "veto:") -> String {
        "\(prefix)j:\(issuer.utf8.count):\(issuer):\(jti)"
    }

    static func subjectKey(issuer: String, subject: String, prefix: String = "veto:") -> String {
        "\(prefix)s:\(issuer.utf8.count):\(issuer):\(subject)"
    }

    /// Redis's own PTTL of a key, in ms.
    func pttl(_ key: String) -> Int? {
        redis.flatMap { Int($0.cli("PTTL", key)) }
    }

    /// The status of a revoked token: with the entry, except from a replica, which keeps none of its
    /// details (64 bytes per token) and answers checks without a Redis command.
    func revoked(_ entry: RevocationEntry) -> RevocationStatus {
        .tokenRevoked(kind == .replicated ? nil : entry)
    }

    /// Keys in Redis besides the feed.
    func keyCount() -> Int? {
        redis.flatMap { server in Int(server.cli("DBSIZE")).map { $0 - (Int(server.cli("EXISTS", "veto:feed")) ?? 0) } }
    }
}

/// Runs `body` against a fresh store of `kind` (its own redis-server, or its own temp data dir).
func withStore<T>(
    _ kind: StoreKind,
    configuration: BlocklistConfiguration = BlocklistConfiguration(),
    _ body: (StoreFixture) async throws -> T
) async throws -> T {
    switch kind {
    case .redis:
        return try await RedisServer.with { server async throws in
            let store = RedisBlocklist(
                redis: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"), configuration: configuration
            )
            return try await closing(store) {
                try await body(StoreFixture(kind: kind, store: store, redis: server, directory: nil))
            }
        }
    case .replicated:
        return try await RedisServer.with { server async throws in
            let redis = RedisBlocklist(
                redis: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"), configuration: configuration
            )
            // A bound no test run reaches: the contract must hold while the replica answers.
            let replica = BlocklistReplica(blocklist: redis, maxStaleness: 60, logger: Logger(label: "veto.test.replica"))
            replica.start()
            let store = ReplicatedBlocklist(redis: redis, replica: replica)
            return try await closing(store) {
                try await waitUntilCurrent(replica)
                return try await body(StoreFixture(kind: kind, store: store, redis: server, directory: nil))
            }
        }
    case .embedded:
        return try await withDataDirectory { directory async throws in
            let store = try await EmbeddedBlocklist.open(directory: directory.path, configuration: configuration)
            return try await closing(store) {
                try await body(StoreFixture(kind: kind, store: store, redis: nil, directory: directory))
            }
        }
    }
}

/// Waits until a replica has loaded and proved itself current (at most 10 s).
func waitUntilCurrent(_ replica: BlocklistReplica) async throws {
    for _ in 0..<1000 {
        if replica.snapshot.state == "current" { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("the replica did not become current within 10 s: \(replica.snapshot)")
}

/// A fresh temp dir, removed afterwards.
func withDataDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-store-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

func closing<T>(_ store: any Blocklist, _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}

func now() -> Double { Date().timeIntervalSince1970 }

let issuer = "https://auth.example.com"
