import Testing
import VetoCore
import VetoCrypto

/// Wycheproof `json_web_signature_test.json`, case by case, at the signature layer with the
/// algorithm pinned from the key's `alg`. An invalid case may be rejected at any layer.
@Suite struct WycheproofJWSTests {
    static let allCases: [WycheproofCase] = (try? Wycheproof.cases("json_web_signature_test.json")) ?? []

    /// One string labelled three ways (valid, invalid, invalid): upstream issue 236.
    static let duplicateIDs: Set<Int> = [357, 367, 370]

    /// Cases whose expected verdict we deliberately do not follow. Each is rejected by Veto.
    static let deviations: [Int: (reason: String, correctedAlgorithm: JWSAlgorithm?)] = [
        372: ("'?' inside base64url; only a decoder that skips bad characters calls it valid", nil),
        373: ("'?' inside base64url; only a decoder that skips bad characters calls it valid", nil),
        346: ("the group key says alg PS256 but the token (RFC 7520 §4.2) is PS384; a pinned key refuses it", .ps384),
        350: ("the group key says alg PS256 but the token (RFC 7520 §4.2) is PS384; a pinned key refuses it", .ps384),
        347: ("the group key says alg \"ES521\", which is not a JWS algorithm (ES512 is); the key is refused at load", .es512),
        351: ("the group key says alg \"ES521\", which is not a JWS algorithm (ES512 is); the key is refused at load", .es512)
    ]

    static var regularCases: [WycheproofCase] {
        allCases.filter { !duplicateIDs.contains($0.tcId) && deviations[$0.tcId] == nil }
    }

    static var deviatingCases: [WycheproofCase] {
        allCases.filter { deviations[$0.tcId] != nil }
    }

    @Test func fileIsComplete() {
        #expect(Self.allCases.count == 401)
    }

    @Test(arguments: regularCases)
    func verdictMatches(_ test: WycheproofCase) {
        let outcome = TokenCheck.run(token: test.jws, keyFile: test.key.fileBytes, source: "tcId \(test.tcId)")
        if test.expectsValid {
            #expect(outcome.isAccepted, "\(test): expected valid, \(outcome)")
        } else {
            #expect(!outcome.isAccepted, "\(test): expected invalid, \(outcome)")
        }
    }

    @Test(arguments: deviatingCases)
    func deviationIsARejection(_ test: WycheproofCase) throws {
        let deviation = try #require(Self.deviations[test.tcId])
        let outcome = TokenCheck.run(token: test.jws, keyFile: test.key.fileBytes, source: "tcId \(test.tcId)")
        #expect(!outcome.isAccepted, "\(test) (\(deviation.reason)): \(outcome)")
        // With the key labelled as the RFC example actually uses, the signature itself is good.
        if let corrected = deviation.correctedAlgorithm {
            var key = test.key
            key["alg"] = .string(corrected.rawValue)
            let fixed = TokenCheck.run(token: test.jws, keyFile: key.fileBytes, source: "tcId \(test.tcId) as \(corrected)")
            #expect(fixed.isAccepted, "\(test) with alg \(corrected): \(fixed)")
        }
    }

    @Test func duplicatesAreSkipped() throws {
        let duplicates = Self.allCases.filter { Self.duplicateIDs.contains($0.tcId) }
        #expect(duplicates.count == 3)
        // The reason they are skipped: the same token carries contradictory verdicts.
        #expect(Set(duplicates.map(\.jws)).count == 1)
        #expect(Set(duplicates.map(\.expectsValid)) == [true, false])
        print("Skipping Wycheproof JWS tcIds 357, 367, 370: one token labelled both valid and invalid (upstream issue 236)")
    }
}
