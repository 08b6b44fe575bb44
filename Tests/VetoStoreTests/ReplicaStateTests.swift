import Testing
import VetoRedis

@testable import VetoStore

/// The replica's state applies scans and feed entries in any overlap to the same result as Redis.
@Suite struct ReplicaStateTests {
    let keys = BlocklistKeys(prefix: "veto:")
    let now = 1_800_000_000.0

    func token(_ jti: String, issuer: String = "https://iss") -> [UInt8] { keys.token(issuer: issuer, jti: jti) }

    func cutoffValue(_ subject: String, at cutoff: Double) -> [UInt8] {
        EntryJSON.encode(
            Cutoff(
                issuer: "https://iss", value: subject, cutoff: cutoff, revokedAt: cutoff, reason: "reset", actor: "admin",
                entryExpiresAt: cutoff + 90_000))
    }

    @Test func tokenEntryRevokesUntilItsTTL() throws {
        var state = ReplicaState(keys: keys)
        state.apply(key: token("a"), .set(value: [], ttlMilliseconds: 10_000), now: now)
        #expect(try state.status(issuer: "https://iss", jti: "a", subject: nil, issuedAt: nil, now: now + 9.999) == .tokenRevoked)
        #expect(try state.status(issuer: "https://iss", jti: "a", subject: nil, issuedAt: nil, now: now + 10) == .notRevoked)
        #expect(try state.status(issuer: "https://iss", jti: "b", subject: nil, issuedAt: nil, now: now) == .notRevoked)
        #expect(try state.status(issuer: "https://other", jti: "a", subject: nil, issuedAt: nil, now: now) == .notRevoked)
    }

    @Test func aSecondSetNeverShortensAndADeleteDeletes() throws {
        var state = ReplicaState(keys: keys)
        state.apply(key: token("a"), .set(value: [], ttlMilliseconds: 60_000), now: now)
        state.apply(key: token("a"), .set(value: [], ttlMilliseconds: 1_000), now: now)
        #expect(try state.status(issuer: "https://iss", jti: "a", subject: nil, issuedAt: nil, now: now + 30) == .tokenRevoked)
        state.apply(key: token("a"), .delete, now: now)
        #expect(try state.status(issuer: "https://iss", jti: "a", subject: nil, issuedAt: nil, now: now) == .notRevoked)
        #expect(state.count == 0)
    }

    @Test func jtisCompareByEveryByte() throws {
        var state = ReplicaState(keys: keys)
        let long = String(repeating: "x", count: 40) + "tail-1"
        state.apply(key: token(long), .set(value: [], ttlMilliseconds: 60_000), now: now)
        state.apply(key: token("é"), .set(value: [], ttlMilliseconds: 60_000), now: now)
        #expect(try state.status(issuer: "https://iss", jti: long, subject: nil, issuedAt: nil, now: now) == .tokenRevoked)
        #expect(
            try state.status(issuer: "https://iss", jti: String(repeating: "x", count: 40) + "tail-2", subject: nil, issuedAt: nil, now: now)
                == .notRevoked)
        #expect(try state.status(issuer: "https://iss", jti: String(repeating: "x", count: 40), subject: nil, issuedAt: nil, now: now) == .notRevoked)
        // U+00E9 and e + U+0301 are different bytes, so different jtis (KEYS.md).
        #expect(try state.status(issuer: "https://iss", jti: "e\u{301}", subject: nil, issuedAt: nil, now: now) == .notRevoked)
    }

    @Test func laterCutoffWinsAndOnlyOlderTokensAreRefused() throws {
        var state = ReplicaState(keys: keys)
        let key = keys.subject(issuer: "https://iss", subject: "u")
        state.apply(key: key, .set(value: cutoffValue("u", at: now), ttlMilliseconds: 90_000_000), now: now)
        state.apply(key: key, .set(value: cutoffValue("u", at: now - 100), ttlMilliseconds: 1_000), now: now)
        guard case .cutOff(let cutoff) = try state.status(issuer: "https://iss", jti: "j", subject: "u", issuedAt: now - 1, now: now) else {
            Issue.record("a token issued before the cut-off passed")
            return
        }
        #expect(cutoff.cutoff == now)
        #expect(try state.status(issuer: "https://iss", jti: "j", subject: "u", issuedAt: now + 1, now: now) == .notRevoked)
        // No iat: cannot prove it is newer.
        #expect(try state.status(issuer: "https://iss", jti: "j", subject: "u", issuedAt: nil, now: now) != .notRevoked)
        // The longer lifetime stays: still there after the second write's 1 s.
        #expect(try state.status(issuer: "https://iss", jti: "j", subject: "u", issuedAt: now - 1, now: now + 10) != .notRevoked)
    }

    @Test func unreadableCutoffFailsTheCheck() {
        var state = ReplicaState(keys: keys)
        state.apply(key: keys.subject(issuer: "https://iss", subject: "u"), .set(value: Array("{".utf8), ttlMilliseconds: 60_000), now: now)
        #expect(throws: StoreError.self) { try state.status(issuer: "https://iss", jti: "j", subject: "u", issuedAt: now, now: now) }
    }

    @Test func foreignKeysAreIgnored() {
        var state = ReplicaState(keys: keys)
        state.apply(key: Array("other:j:3:iss:a".utf8), .set(value: [], ttlMilliseconds: 60_000), now: now)
        state.apply(key: Array("veto:feed".utf8), .set(value: [], ttlMilliseconds: 60_000), now: now)
        #expect(state.count == 0)
    }

    @Test func sweepReturnsMemoryInSlices() throws {
        var state = ReplicaState(keys: keys)
        for index in 0..<1000 {
            state.apply(key: token("t\(index)"), .set(value: [], ttlMilliseconds: index.isMultiple(of: 2) ? 1_000 : 60_000), now: now)
        }
        var rounds = 0
        repeat {
            state.sweep(now: now + 2, budget: 100)
            rounds += 1
        } while state.tokenCount > 500 && rounds < 100
        #expect(state.tokenCount == 500)
        #expect(rounds > 1)
        #expect(try state.status(issuer: "https://iss", jti: "t1", subject: nil, issuedAt: nil, now: now + 2) == .tokenRevoked)
    }

    @Test func feedEntriesParseFromXREADAndRefuseGarbage() throws {
        func item(_ id: String, _ fields: [String]) -> RedisValue {
            .array([.bulkString(Array(id.utf8)), .array(fields.map { .bulkString(Array($0.utf8)) })])
        }
        let reply = RedisValue.array([
            .array([
                .bulkString(Array("veto:feed".utf8)),
                .array([
                    item("5-1", ["op", "set", "key", "veto:j:3:iss:a", "ttl_ms", "1000", "value", "{}"]),
                    item("6-0", ["op", "del", "key", "veto:j:3:iss:a"])
                ])
            ])
        ])
        let entries = try FeedEntry.entries(ofXREAD: reply)
        #expect(entries.map(\.id) == [FeedID(milliseconds: 5, sequence: 1), FeedID(milliseconds: 6, sequence: 0)])
        #expect(entries[0].operation == .set(value: Array("{}".utf8), ttlMilliseconds: 1000))
        #expect(entries[1].operation == .delete)
        #expect(try FeedEntry.entries(ofXREAD: .null).isEmpty)
        let garbage = RedisValue.array([.array([.bulkString(Array("veto:feed".utf8)), .array([item("7-0", ["op", "set", "key", "k"])])])])
        guard case .unreadable? = try FeedEntry.entries(ofXREAD: garbage).first?.operation else {
            Issue.record("a set without value and ttl_ms was read as a write")
            return
        }
        #expect(throws: FeedError.self) { try FeedEntry.entries(ofXREAD: .array([.integer(1)])) }
        #expect(FeedID("12-3")! < FeedID("12-10")!)
        #expect(FeedID("x-1") == nil)
    }
}
