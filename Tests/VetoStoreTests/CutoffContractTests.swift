import Foundation
import Testing
import VetoCore
import VetoRedis
import VetoStore
import VetoTestSupport

/// Cut-offs of every kind, against every store (Redis, Redis with a replica, embedded): a check refuses a
/// token when any cut-off matching it is at or after its `iat`, and only then.
@Suite struct CutoffContractTests {
    /// A token of `issuer` with every claim a cut-off can match.
    static func query(iat: Double?) -> RevocationQuery {
        RevocationQuery(
            issuer: issuer, jti: "t-\(UUID().uuidString)", issuedAt: iat,
            values: CutoffValues(subject: "alice", session: "s-1", keyID: "k-1", clients: ["app", "other-client"], email: "a@example.com"))
    }

    /// One store per kind of store, every cut-off kind in turn on it (a store each would start 18 redis-servers
    /// at once, and the load makes the timing-bound fault tests running beside them fail).
    @Test(arguments: StoreKind.testable)
    func eachKindRefusesOnlyWhatItMatchesAndOnlyUpToItsTime(_ store: StoreKind) async throws {
        try await withStore(store) { fixture in
            for kind in CutoffKind.allCases {
                try await Self.check(kind, fixture)
            }
        }
    }

    static func check(_ kind: CutoffKind, _ fixture: StoreFixture) async throws {
        let before = now().rounded(.down) - 30
        let value: String =
            switch kind {
            case .subject: "alice"
            case .session: "s-1"
            case .key: "k-1"
            case .client: "other-client"  // client_id, the second client value
            case .issuer: ""
            case .email: "a@example.com"
            }
        let stored = try await fixture.store.cutoff(
            CutoffRequest(issuer: issuer, kind: kind, value: value, before: before, reason: "test", actor: "t", createdBy: "admin"))
        #expect(stored.kind == kind && stored.value == value && stored.cutoff == before && stored.createdBy == "admin")
        #expect(stored.entryExpiresAt == before + 86_400 + 60)

        // Matching and issued at or before: refused, naming the rule. No iat: refused.
        for iat in [before, before - 600, nil] as [Double?] {
            guard case .cutOff(let rule) = try await fixture.store.status(Self.query(iat: iat)) else {
                Issue.record("\(kind) cut-off did not refuse a token issued at \(String(describing: iat))")
                continue
            }
            #expect(rule.kind == kind && rule.value == value && rule.cutoff == before)
        }
        // Issued after: allowed.
        #expect(try await fixture.store.status(Self.query(iat: before + 1)) == .notRevoked)
        // Another value of the same kind, or another issuer: allowed (the issuer kind matches every token of its issuer).
        let otherValues = RevocationQuery(
            issuer: issuer, jti: "x", issuedAt: before,
            values: CutoffValues(subject: "bob", session: "s-2", keyID: "k-2", clients: ["app"], email: "b@example.com"))
        #expect(try await fixture.store.status(otherValues) == (kind == .issuer ? .cutOff(stored) : .notRevoked))
        var elsewhere = Self.query(iat: before)
        elsewhere.issuer = "https://other.example.com"
        #expect(try await fixture.store.status(elsewhere) == .notRevoked)

        // Read, list, count, remove.
        #expect(try await fixture.store.cutoff(issuer: issuer, kind: kind, value: value)?.cutoff == before)
        #expect(try await fixture.store.cutoffs().map(\.kind) == [kind])
        #expect(try await fixture.store.cutoffs(issuer: issuer, kind: kind).count == 1)
        #expect(try await fixture.store.cutoffs(issuer: "https://other.example.com").isEmpty)
        #expect(try await fixture.store.cutoffs(issuer: issuer).map(\.kind) == [kind])
        #expect(try await fixture.store.count() == BlocklistCount(tokens: 0, cutoffs: [kind: 1]))
        #expect(try await fixture.store.removeCutoff(issuer: issuer, kind: kind, value: value))
        #expect(try await fixture.store.status(Self.query(iat: before)) == .notRevoked)
        #expect(try await !fixture.store.removeCutoff(issuer: issuer, kind: kind, value: value))
    }

    /// Two cut-offs of different kinds on one token: the one that refuses wins, whichever kind it is
    /// (combining them must never let the token through; cf. CVE-2026-8922).
    @Test(arguments: StoreKind.testable)
    func aLaterCutoffOfAnyKindRefusesEvenWhenAnEarlierOneDoesNot(_ store: StoreKind) async throws {
        try await withStore(store) { fixture in
            let base = now().rounded(.down) - 100
            _ = try await fixture.store.cutoff(CutoffRequest(issuer: issuer, kind: .subject, value: "alice", before: base - 50, createdBy: "admin"))
            let session = try await fixture.store.cutoff(
                CutoffRequest(issuer: issuer, kind: .session, value: "s-1", before: base + 10, createdBy: "backchannel_logout"))
            #expect(try await fixture.store.status(Self.query(iat: base)) == .cutOff(session))
            #expect(try await fixture.store.status(Self.query(iat: base + 11)) == .notRevoked)
        }
    }

    /// An email cut-off matches the address whatever its case, on both sides.
    @Test(arguments: StoreKind.testable)
    func emailCutoffsIgnoreCase(_ store: StoreKind) async throws {
        try await withStore(store) { fixture in
            let before = now().rounded(.down) - 30
            let stored = try await fixture.store.cutoff(
                CutoffRequest(issuer: issuer, kind: .email, value: "A@Example.COM", before: before, createdBy: "admin"))
            #expect(stored.value == "a@example.com")
            let token = RevocationQuery(
                issuer: issuer, jti: "e", issuedAt: before, values: CutoffValues(email: CutoffKind.email.stored("a@EXAMPLE.com")))
            #expect(try await fixture.store.status(token) == .cutOff(stored))
            #expect(try await fixture.store.cutoff(issuer: issuer, kind: .email, value: "a@example.COM") != nil)
        }
        #expect(CutoffKind.email.stored("ÉVE@x.org") == "éve@x.org" && CutoffKind.subject.stored("Alice") == "Alice")
    }

    @Test(arguments: StoreKind.testable)
    func aCutoffNeverMovesBackwardsAndKeepsItsKind(_ store: StoreKind) async throws {
        try await withStore(store) { fixture in
            let base = now().rounded(.down) - 100
            let later = try await fixture.store.cutoff(CutoffRequest(issuer: issuer, kind: .key, value: "k-1", before: base, createdBy: "admin"))
            let again = try await fixture.store.cutoff(CutoffRequest(issuer: issuer, kind: .key, value: "k-1", before: base - 60, createdBy: "cli"))
            #expect(again.cutoff == later.cutoff && again.createdBy == "admin")
            // The same value under another kind is another rule.
            #expect(try await fixture.store.cutoff(issuer: issuer, kind: .client, value: "k-1") == nil)
        }
    }

    @Test(arguments: StoreKind.testable)
    func badRequestsAreRefusedBeforeAnythingIsStored(_ store: StoreKind) async throws {
        try await withStore(store) { fixture in
            for request in [
                CutoffRequest(issuer: issuer, kind: .session, value: "", createdBy: "admin"),
                CutoffRequest(issuer: issuer, kind: .issuer, value: "x", createdBy: "admin"),
                CutoffRequest(issuer: issuer, kind: .key, value: String(repeating: "k", count: 10_000), createdBy: "admin"),
                CutoffRequest(issuer: issuer, kind: .client, value: "c", before: .infinity, createdBy: "admin")
            ] {
                await #expect(throws: StoreError.self) { try await fixture.store.cutoff(request) }
            }
            let count = try await fixture.store.count()
            #expect(count == BlocklistCount(tokens: 0, cutoffs: [:]))
        }
    }
}

/// Cut-offs written by another instance reach a replica through the feed, and their removal too; and the
/// embedded journal keeps every kind across a restart.
@Suite struct CutoffPropagationTests {
    @Test(.requiresRedisServer) func aReplicaLearnsEveryKindFromAnotherWriter() async throws {
        try await withStore(.replicated) { fixture in
            guard let server = fixture.redis else { return }
            let writer = RedisBlocklist(redis: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
            let before = now().rounded(.down) - 30
            for kind in CutoffKind.allCases {
                let value = Self.value(of: kind)
                _ = try await writer.cutoff(CutoffRequest(issuer: issuer, kind: kind, value: value, before: before, createdBy: "cli"))
                let answer = try await Self.eventually { try await fixture.store.status(CutoffContractTests.query(iat: before)) }
                guard case .cutOff(let rule) = answer else {
                    Issue.record("the replica did not learn the \(kind) cut-off written elsewhere: \(answer)")
                    continue
                }
                #expect(rule.kind == kind && rule.createdBy == "cli")
                #expect(try await writer.removeCutoff(issuer: issuer, kind: kind, value: value))
                let after = try await Self.eventually(until: .notRevoked) {
                    try await fixture.store.status(CutoffContractTests.query(iat: before))
                }
                #expect(after == .notRevoked, "the replica kept the \(kind) cut-off removed elsewhere")
            }
            await writer.close()
        }
    }

    @Test func theJournalKeepsEveryKindAcrossARestart() async throws {
        try await withDataDirectory { directory in
            let before = now().rounded(.down) - 30
            let first = try await EmbeddedBlocklist.open(directory: directory.path)
            for kind in CutoffKind.allCases {
                _ = try await first.cutoff(
                    CutoffRequest(issuer: issuer, kind: kind, value: kind == .issuer ? "" : Self.value(of: kind), before: before, createdBy: "admin"))
            }
            #expect(try await first.removeCutoff(issuer: issuer, kind: .key, value: Self.value(of: .key)))
            await first.close()
            let reopened = try await EmbeddedBlocklist.open(directory: directory.path)
            let kinds = Set(try await reopened.cutoffs().map(\.kind))
            #expect(kinds == Set(CutoffKind.allCases).subtracting([.key]))
            #expect(try await reopened.cutoffs().allSatisfy { $0.createdBy == "admin" && $0.cutoff == before })
            await reopened.close()
        }
    }

    static func value(of kind: CutoffKind) -> String {
        switch kind {
        case .subject: "alice"
        case .session: "s-1"
        case .key: "k-1"
        case .client: "app"
        case .issuer: ""
        case .email: "a@example.com"
        }
    }

    /// The first answer that is not `.notRevoked` (or is `until`), within 5 s.
    static func eventually(until wanted: RevocationStatus? = nil, _ body: () async throws -> RevocationStatus) async throws -> RevocationStatus {
        var last = try await body()
        for _ in 0..<500 {
            if let wanted { if last == wanted { return last } } else if last != .notRevoked { return last }
            try await Task.sleep(for: .milliseconds(10))
            last = try await body()
        }
        return last
    }
}
