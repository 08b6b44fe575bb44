import Foundation
import Testing
import VetoStore
import VetoTestSupport

/// One contract, run against both stores: whatever a caller can observe must be the same.
@Suite struct BlocklistContractTests {
    /// The contract covers the Redis store wherever redis-server exists; elsewhere this test is
    /// skipped with the reason, and the tests below run against the embedded store only.
    @Test(.requiresRedisServer) func coversRedis() {
        #expect(StoreKind.testable.contains(.redis))
    }

    @Test(arguments: StoreKind.testable)
    func entryLivesUntilExpPlusLeeway(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let exp = (now() + 600).rounded(.down)
            let stored = try await fixture.store.revoke(
                RevocationRequest(issuer: issuer, jti: "a1", subject: "user_1", tokenExpiresAt: exp, reason: "logout", actor: "self"))
            #expect(stored.entryExpiresAt == exp + 60)
            #expect(stored.tokenExpiresAt == exp)
            #expect(stored.subject == "user_1")
            #expect(stored.reason == "logout")
            #expect(stored.actor == "self")
            #expect(abs(stored.revokedAt - now()) < 5)

            let read = try #require(try await fixture.store.entry(issuer: issuer, jti: "a1"))
            #expect(abs(read.entryExpiresAt - (exp + 60)) < 0.05)
            if kind.usesRedis {
                // The TTL Redis itself holds, and exactly one key for the entry.
                try expectPTTL(fixture, StoreFixture.tokenKey(issuer: issuer, jti: "a1"), expiresAt: exp + 60)
                #expect(fixture.keyCount() == 1)
            }
        }
    }

    @Test(arguments: StoreKind.testable)
    func adminRevocationWithoutExpUsesMaxTokenLifetime(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let before = now()
            let stored = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "no-exp", reason: "admin"))
            #expect(stored.tokenExpiresAt == nil)
            // Times are kept to the millisecond, so allow the rounding on either side.
            #expect(stored.entryExpiresAt >= before + 86_400 + 120 - 0.001 && stored.entryExpiresAt <= now() + 86_400 + 120 + 0.001)
            if kind.usesRedis {
                try expectPTTL(fixture, StoreFixture.tokenKey(issuer: issuer, jti: "no-exp"), expiresAt: stored.entryExpiresAt)
            }
        }
    }

    @Test(arguments: StoreKind.testable)
    func revokingTwiceIsIdempotent(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let request = RevocationRequest(issuer: issuer, jti: "twice", tokenExpiresAt: now() + 300, reason: "logout")
            let first = try await fixture.store.revoke(request)
            let second = try await fixture.store.revoke(request)
            #expect(second == first)
            #expect(try await fixture.store.count() == BlocklistCount(tokens: 1, subjects: 0))
        }
    }

    @Test(arguments: StoreKind.testable)
    func revokingAgainNeverShortensAnEntry(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let base = now().rounded(.down)
            let long = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "j", tokenExpiresAt: base + 600, reason: "first"))
            let shorter = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "j", tokenExpiresAt: base + 60, reason: "second"))
            #expect(shorter == long)
            #expect(try await fixture.store.entry(issuer: issuer, jti: "j")?.reason == "first")
            let longer = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "j", tokenExpiresAt: base + 1200, reason: "third"))
            #expect(longer.entryExpiresAt == base + 1260)
            #expect(longer.reason == "third")
            if kind.usesRedis {
                try expectPTTL(fixture, StoreFixture.tokenKey(issuer: issuer, jti: "j"), expiresAt: base + 1260)
            }
        }
    }

    @Test(arguments: StoreKind.testable)
    func concurrentRevokesKeepTheLongestExpiry(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let base = now().rounded(.down)
            let exps = (1...40).map { base + Double($0 * 30) }.shuffled()
            try await withThrowingTaskGroup(of: RevocationEntry.self) { group in
                for exp in exps {
                    group.addTask {
                        try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "race", tokenExpiresAt: exp, reason: "r\(exp)"))
                    }
                }
                for try await stored in group { #expect(stored.entryExpiresAt >= stored.tokenExpiresAt! + 60) }
            }
            let final = try #require(try await fixture.store.entry(issuer: issuer, jti: "race"))
            #expect(final.tokenExpiresAt == base + 1200)
            #expect(abs(final.entryExpiresAt - (base + 1260)) < 0.05)
            if kind.usesRedis {
                try expectPTTL(fixture, StoreFixture.tokenKey(issuer: issuer, jti: "race"), expiresAt: base + 1260)
                #expect(fixture.keyCount() == 1)
            }
        }
    }

    @Test(arguments: StoreKind.testable)
    func statusReportsTheTokenEntry(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let stored = try await fixture.store.revoke(
                RevocationRequest(issuer: issuer, jti: "seen", subject: "u", tokenExpiresAt: now() + 60, reason: "logout"))
            #expect(try await fixture.store.status(issuer: issuer, jti: "seen", subject: "u", issuedAt: now()) == fixture.revoked(stored))
            #expect(try await fixture.store.status(issuer: issuer, jti: "unseen", subject: "u", issuedAt: now()) == .notRevoked)
            #expect(try await fixture.store.status(issuer: issuer, jti: nil, subject: nil, issuedAt: nil) == .notRevoked)
        }
    }

    @Test(arguments: StoreKind.testable)
    func subjectCutoffRejectsTokensIssuedUpToIt(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let cutoff = now().rounded(.down) - 10
            let stored = try await fixture.store.revokeSubject(
                SubjectRevocationRequest(issuer: issuer, subject: "user_9", cutoff: cutoff, reason: "password reset", actor: "admin"))
            #expect(stored.cutoff == cutoff)
            #expect(stored.entryExpiresAt == cutoff + 86_400 + 60)
            let status = { (iat: Double?, subject: String, iss: String) in
                try await fixture.store.status(issuer: iss, jti: "any", subject: subject, issuedAt: iat)
            }
            #expect(try await status(cutoff, "user_9", issuer) == .cutOff(stored))
            #expect(try await status(cutoff - 3600, "user_9", issuer) == .cutOff(stored))
            #expect(try await status(nil, "user_9", issuer) == .cutOff(stored))
            #expect(try await status(cutoff + 0.001, "user_9", issuer) == .notRevoked)
            #expect(try await status(cutoff + 1, "user_9", issuer) == .notRevoked)
            #expect(try await status(cutoff, "user_10", issuer) == .notRevoked)
            #expect(try await status(cutoff, "user_9", "https://other.example.com") == .notRevoked)
            #expect(try await fixture.store.subjectCutoff(issuer: issuer, subject: "user_9")?.cutoff == cutoff)
            if kind.usesRedis {
                try expectPTTL(fixture, StoreFixture.subjectKey(issuer: issuer, subject: "user_9"), expiresAt: cutoff + 86_460)
            }
        }
    }

    @Test(arguments: StoreKind.testable)
    func laterCutoffNeverMovesBackwards(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let base = now().rounded(.down)
            _ = try await fixture.store.revokeSubject(SubjectRevocationRequest(issuer: issuer, subject: "s", cutoff: base, reason: "first"))
            let earlier = try await fixture.store.revokeSubject(
                SubjectRevocationRequest(issuer: issuer, subject: "s", cutoff: base - 100, reason: "earlier"))
            #expect(earlier.cutoff == base)
            #expect(earlier.reason == "first")
            #expect(try await fixture.store.status(issuer: issuer, jti: nil, subject: "s", issuedAt: base - 50) != .notRevoked)
            let later = try await fixture.store.revokeSubject(
                SubjectRevocationRequest(issuer: issuer, subject: "s", cutoff: base + 50, reason: "later"))
            #expect(later.cutoff == base + 50)
            #expect(later.entryExpiresAt == base + 50 + 86_460)
            #expect(try await fixture.store.subjectCutoff(issuer: issuer, subject: "s")?.reason == "later")
            #expect(try await fixture.store.count() == BlocklistCount(tokens: 0, subjects: 1))
        }
    }

    @Test(arguments: StoreKind.testable)
    func subjectRevocationIsIdempotent(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let request = SubjectRevocationRequest(issuer: issuer, subject: "again", cutoff: now() - 1, reason: "reset")
            let first = try await fixture.store.revokeSubject(request)
            let second = try await fixture.store.revokeSubject(request)
            #expect(second == first)
            #expect(try await fixture.store.subjectCutoff(issuer: issuer, subject: "again")?.cutoff == first.cutoff)
        }
    }

    @Test(arguments: StoreKind.testable)
    func jtiValuesAreBinarySafe(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let jtis = [
                "with spaces", "a:b:c", "a", "a:b", "quote\"s and 'single'", "back\\slash", "*?[glob]",
                "é日本語🔑", "e\u{301}", "\u{0}nul", "line\nbreak", String(repeating: "x", count: 512)
            ]
            for jti in jtis {
                _ = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: jti, tokenExpiresAt: now() + 120, reason: jti))
            }
            for jti in jtis {
                let status = try await fixture.store.status(issuer: issuer, jti: jti, subject: nil, issuedAt: nil)
                guard case .tokenRevoked(let entry) = status else {
                    Issue.record("\(jti.debugDescription): \(status)")
                    continue
                }
                // A replica keeps no details (KEYS.md, "Replicas"); the others return the entry itself.
                if kind != .replicated {
                    #expect(entry?.jti == jti)
                    #expect(entry?.reason == jti)
                }
            }
            // Canonically equivalent but different bytes: a different jti.
            #expect(try await fixture.store.status(issuer: issuer, jti: "\u{e9}", subject: nil, issuedAt: nil) == .notRevoked)
            #expect(try await fixture.store.status(issuer: issuer, jti: "a:b:", subject: nil, issuedAt: nil) == .notRevoked)
            #expect(try await fixture.store.count().tokens == jtis.count)
            if kind.usesRedis { #expect(fixture.keyCount() == jtis.count) }
        }
    }

    @Test(arguments: StoreKind.testable)
    func issuersWithTheSameJtiAreIndependent(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            // Without the issuer's length in the key, ("x:1", "y") and ("x", "1:y") would collide.
            _ = try await fixture.store.revoke(RevocationRequest(issuer: "x:1", jti: "y", tokenExpiresAt: now() + 60))
            _ = try await fixture.store.revoke(RevocationRequest(issuer: "https://a.example", jti: "same", tokenExpiresAt: now() + 60))
            #expect(try await fixture.store.status(issuer: "x", jti: "1:y", subject: nil, issuedAt: nil) == .notRevoked)
            #expect(try await fixture.store.status(issuer: "x:1", jti: "y", subject: nil, issuedAt: nil) != .notRevoked)
            #expect(try await fixture.store.status(issuer: "https://b.example", jti: "same", subject: nil, issuedAt: nil) == .notRevoked)
            #expect(try await fixture.store.remove(issuer: "https://b.example", jti: "same") == false)
            #expect(try await fixture.store.entry(issuer: "https://a.example", jti: "same") != nil)
        }
    }

    @Test(arguments: StoreKind.testable)
    func listPagesThroughEveryEntryWithFilters(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            var expected = Set<String>()
            for index in 0..<45 {
                let iss = index % 3 == 0 ? "https://b.example" : issuer
                let request = RevocationRequest(
                    issuer: iss, jti: "jti-\(index)", subject: "user_\(index % 5)", tokenExpiresAt: now() + 600,
                    reason: index % 2 == 0 ? "logout" : "compromised"
                )
                _ = try await fixture.store.revoke(request)
                expected.insert("\(iss) \(request.jti)")
            }
            _ = try await fixture.store.revokeSubject(SubjectRevocationRequest(issuer: issuer, subject: "user_1"))

            let all = try await collect(fixture.store, BlocklistQuery(limit: 7))
            #expect(all.pages.allSatisfy { $0 <= 7 })
            #expect(all.pages.dropLast().allSatisfy { $0 == 7 })
            #expect(Set(all.entries.map { "\($0.issuer) \($0.jti)" }) == expected)
            #expect(all.entries.count == 45)

            let byIssuer = try await collect(fixture.store, BlocklistQuery(issuer: "https://b.example", limit: 4))
            #expect(byIssuer.entries.count == 15)
            #expect(byIssuer.entries.allSatisfy { $0.issuer == "https://b.example" })

            let bySubject = try await collect(fixture.store, BlocklistQuery(subject: "user_2", reason: "logout", limit: 2))
            #expect(Set(bySubject.entries.map(\.jti)) == Set((0..<45).filter { $0 % 5 == 2 && $0 % 2 == 0 }.map { "jti-\($0)" }))

            let error = try await #require(throws: StoreError.self) { try await fixture.store.list(BlocklistQuery(cursor: "not a cursor", limit: 5)) }
            #expect(error.code == .invalidArgument)
        }
    }

    @Test(arguments: StoreKind.testable)
    func removeAndCount(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            for index in 0..<3 {
                _ = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "r\(index)", tokenExpiresAt: now() + 60))
            }
            _ = try await fixture.store.revokeSubject(SubjectRevocationRequest(issuer: issuer, subject: "s"))
            #expect(try await fixture.store.count() == BlocklistCount(tokens: 3, subjects: 1))
            #expect(try await fixture.store.remove(issuer: issuer, jti: "r1"))
            #expect(try await fixture.store.remove(issuer: issuer, jti: "r1") == false)
            #expect(try await fixture.store.entry(issuer: issuer, jti: "r1") == nil)
            #expect(try await fixture.store.status(issuer: issuer, jti: "r1", subject: nil, issuedAt: nil) == .notRevoked)
            #expect(try await fixture.store.removeSubjectCutoff(issuer: issuer, subject: "s"))
            #expect(try await fixture.store.status(issuer: issuer, jti: nil, subject: "s", issuedAt: nil) == .notRevoked)
            #expect(try await fixture.store.count() == BlocklistCount(tokens: 2, subjects: 0))
            try await fixture.store.ping()
        }
    }

    @Test(arguments: StoreKind.testable)
    func unstorableRequestsAreClearErrors(_ kind: StoreKind) async throws {
        try await withStore(kind) { fixture in
            let long = String(repeating: "é", count: 257)  // 514 bytes
            let tooLong = try await #require(throws: StoreError.self) {
                try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: long))
            }
            #expect(tooLong.code == .invalidArgument)
            #expect(tooLong.message == "jti is 514 bytes long; the blocklist stores at most 512")
            // It can never be stored, so a check needs no lookup and finds nothing.
            #expect(try await fixture.store.status(issuer: issuer, jti: long, subject: nil, issuedAt: nil) == .notRevoked)

            let empty = try await #require(throws: StoreError.self) { try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "")) }
            #expect(empty.message == "jti must not be empty")
            let badExp = try await #require(throws: StoreError.self) {
                try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "x", tokenExpiresAt: .infinity))
            }
            #expect(badExp.code == .invalidArgument)
            #expect(try await fixture.store.count() == BlocklistCount(tokens: 0, subjects: 0))
        }
    }

    @Test(arguments: StoreKind.testable)
    func expiredEntriesDisappear(_ kind: StoreKind) async throws {
        try await withStore(kind, configuration: BlocklistConfiguration(leeway: 0)) { fixture in
            _ = try await fixture.store.revoke(RevocationRequest(issuer: issuer, jti: "short", tokenExpiresAt: now() + 3))
            #expect(try await fixture.store.status(issuer: issuer, jti: "short", subject: nil, issuedAt: nil) != .notRevoked)
            try await poll("the entry to expire", timeout: 10) {
                try await fixture.store.status(issuer: issuer, jti: "short", subject: nil, issuedAt: nil) == .notRevoked
            }
            #expect(try await fixture.store.entry(issuer: issuer, jti: "short") == nil)
            #expect(try await fixture.store.count().tokens == 0)
        }
    }

    private func collect(_ store: any Blocklist, _ query: BlocklistQuery) async throws -> (entries: [RevocationEntry], pages: [Int]) {
        var query = query
        var entries = [RevocationEntry]()
        var pages = [Int]()
        repeat {
            let page = try await store.list(query)
            entries += page.entries
            pages.append(page.entries.count)
            query.cursor = page.nextCursor
            guard pages.count < 100 else {
                Issue.record("listing does not end")
                break
            }
        } while query.cursor != nil
        return (entries, pages)
    }
}

/// Checks the TTL Redis holds for `key` against an absolute expiry, reading PTTL between two clock
/// readings. It must never end early (the safety property). It may end a little late: the TTL is set
/// relative to when Redis runs the write (so clock skew between Veto's and Redis's hosts cannot
/// shorten it), and on a loaded machine the write can wait in queues for a while.
func expectPTTL(
    _ fixture: StoreFixture, _ key: String, expiresAt expiry: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let before = now()
    let pttl = try #require(fixture.pttl(key), sourceLocation: sourceLocation)
    let after = now()
    let lowest = (expiry - after) * 1000 - 5
    let highest = (expiry - before) * 1000 + 3000
    #expect(Double(pttl) >= lowest && Double(pttl) <= highest, "PTTL \(pttl) not within [\(lowest), \(highest)]", sourceLocation: sourceLocation)
}
