import Testing
import VetoCore
import VetoCrypto

/// Wycheproof `json_web_key_test.json`: each group's key set loaded as a JWKS, then the token
/// checked with the core's key selection. Every verdict must match.
@Suite struct WycheproofJWKTests {
    static let allCases: [WycheproofCase] = (try? Wycheproof.cases("json_web_key_test.json")) ?? []

    @Test func fileIsComplete() {
        #expect(Self.allCases.count == 26)
    }

    @Test(arguments: allCases)
    func verdictMatches(_ test: WycheproofCase) {
        let outcome = TokenCheck.run(token: test.jws, keyFile: test.key.fileBytes, source: "tcId \(test.tcId)")
        if test.expectsValid {
            #expect(outcome.isAccepted, "\(test): expected valid, \(outcome)")
        } else {
            #expect(!outcome.isAccepted, "\(test): expected invalid, \(outcome)")
        }
    }

    /// The invalid cases must fail for the reason the vector names, not by accident.
    @Test(arguments: [
        (1, KeyLoadingError.Code.ambiguousKeySet), (4, .ambiguousKeySet), (6, .noUsableKey), (7, .noUsableKey),
        (8, .noUsableKey), (9, .noUsableKey), (10, .noUsableKey), (16, .noUsableKey), (19, .noUsableKey),
        (21, .noUsableKey), (22, .noUsableKey), (23, .noUsableKey), (24, .noUsableKey), (25, .noUsableKey)
    ])
    func refusedAtLoad(tcId: Int, code: KeyLoadingError.Code) throws {
        let test = try #require(Self.allCases.first { $0.tcId == tcId })
        #expect(throws: KeyLoadingError(code, source: "", "")) {
            try KeyLoader.verificationKeys(from: test.key.fileBytes, source: "tcId \(tcId)")
        }
    }

    @Test func skippedKeysNameTheirReason() throws {
        // tcId 7: the only key has the ROCA fingerprint; tcId 8: 1024 bits; tcId 9: e = 1; tcId 22: off-curve point.
        let expectations: [(Int, KeyLoadingError.Code, String)] = [
            (7, .weakKey, "ROCA"), (8, .weakKey, "1024 bits"), (9, .weakKey, "exponent is 1"), (22, .invalidKey, "P-256"),
            (6, .wrongUse, "\"enc\""), (10, .weakKey, "31 bytes"), (19, .unsupportedAlgorithm, "ES521"), (23, .invalidKey, "P-384")
        ]
        for (tcId, code, fragment) in expectations {
            let test = try #require(Self.allCases.first { $0.tcId == tcId })
            var keys = test.key
            // Add a usable key so that the set loads and the bad one shows up in `skipped`.
            // Secret and public keys may not share a set, so the extra key matches the set's kind.
            let isSecretSet = keys["keys"]?.arrayValue?.first?.objectValue?.string("kty") == "oct"
            let good =
                isSecretSet
                ? try SigningKey.generate(algorithm: .hs256, keyID: "good").privateJWK()
                : try SigningKey.generate(algorithm: .es256, keyID: "good").publicJWK()
            keys["keys"] = .array((keys["keys"]?.arrayValue ?? []) + [.object(good)])
            let load = try KeyLoader.verificationKeys(from: keys.fileBytes, source: "tcId \(tcId)")
            #expect(load.keys.map(\.keyID) == ["good"])
            let skipped = try #require(load.skipped.first, "tcId \(tcId)")
            #expect(skipped.reason.code == code, "tcId \(tcId): \(skipped.reason)")
            #expect(skipped.reason.message.contains(fragment), "tcId \(tcId): \(skipped.reason)")
        }
    }
}
