import Testing

@testable import VetoStore

/// The embedded store's token index against a dictionary doing the same operations.
@Suite struct TokenTableTests {
    static func token(_ id: Int, issuer: UInt32, expires: Double) -> StoredToken {
        let entry = RevocationEntry(
            issuer: "i", jti: "jti-\(id)", subject: id % 3 == 0 ? nil : "s\(id)", tokenExpiresAt: nil,
            revokedAt: 1, reason: "r", actor: nil, entryExpiresAt: expires)
        return StoredToken(entry, issuer: issuer, reason: 0, actor: 0)
    }

    @Test func behavesLikeADictionary() {
        var generator = SystemRandomNumberGenerator()
        var table = TokenTable<StoredToken>()
        var model: [String: Double] = [:]
        func key(_ id: Int, _ issuer: UInt32) -> String { "\(issuer)/\(id)" }
        for step in 0..<20_000 {
            let id = Int.random(in: 0..<600, using: &generator)
            let issuer = UInt32.random(in: 0..<2, using: &generator)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<5:
                let expires = Double(step)
                table.upsert(Self.token(id, issuer: issuer, expires: expires))
                model[key(id, issuer)] = expires
            case 5..<8:
                let removed = table.remove(StoredToken.probe(issuer: issuer, jti: "jti-\(id)"))
                #expect(removed == (model.removeValue(forKey: key(id, issuer)) != nil))
            case 8:
                let found = table.find(StoredToken.probe(issuer: issuer, jti: "jti-\(id)"))
                #expect(found?.entryExpiresAt == model[key(id, issuer)])
                if let found { #expect(found.jti == "jti-\(id)" && found.subject == (id % 3 == 0 ? nil : "s\(id)")) }
            default:
                if step % 50 == 0 {
                    let cut = Double(step - 500)
                    table.removeAll { $0.entryExpiresAt < cut }
                    model = model.filter { $0.value >= cut }
                }
            }
            #expect(table.count == model.count)
        }
        for issuer in UInt32(0)..<2 {
            for id in 0..<600 {
                #expect(table.find(StoredToken.probe(issuer: issuer, jti: "jti-\(id)"))?.entryExpiresAt == model[key(id, issuer)])
            }
        }
        table.reserve(100_000)
        #expect(table.count == model.count)
        #expect(Set(table.all.map { "\($0.issuer)/\($0.jti.dropFirst(4))" }) == Set(model.keys))
    }

    @Test func spansChunks() {
        var table = TokenTable<StoredToken>()
        let total = 3 * ChunkedEntries<StoredToken>.chunkSize + 123
        for id in 0..<total { table.upsert(Self.token(id, issuer: 7, expires: Double(id))) }
        #expect(table.count == total)
        for id in stride(from: 0, to: total, by: 2) {
            let removed = table.remove(StoredToken.probe(issuer: 7, jti: "jti-\(id)"))
            #expect(removed)
        }
        #expect(table.count == total - (total + 1) / 2)
        table.removeAll { $0.entryExpiresAt < 20_000 }
        for id in 0..<total {
            let expected = id % 2 == 1 && id >= 20_000
            #expect((table.find(StoredToken.probe(issuer: 7, jti: "jti-\(id)")) != nil) == expected, "\(id)")
        }
        #expect(table.count == (total - 20_000) / 2)
    }
}
