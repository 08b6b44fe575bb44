import Testing
import VetoCore
import VetoStore

/// `RevocationJSON` is what the HTTP API and `veto blocklist --json` both show: these pin its bytes.
@Suite struct RevocationJSONTests {
    static let entry = RevocationEntry(
        issuer: "https://auth.example.com", jti: "j 1", subject: "user_1", tokenExpiresAt: 1712403600,
        revokedAt: 1712400123.456, reason: "logout", actor: "self", entryExpiresAt: 1712403660)

    @Test func anEntryHasInstantsAsTextAndItsExpiryAsUnixSeconds() {
        #expect(
            JSONWriter.compact(.object(RevocationJSON.entry(Self.entry)))
                == #"{"iss":"https://auth.example.com","jti":"j 1","sub":"user_1","exp":1712403600,"#
                + #""revoked_at":"2024-04-06T10:42:03.456Z","reason":"logout","actor":"self","expires_at":"2024-04-06T11:41:00Z","expires_at_unix":1712403660}"#
        )
    }

    @Test func missingOptionalFieldsAreNullAndAFractionalExpiryRoundsUp() {
        let entry = RevocationEntry(
            issuer: "i", jti: "j", subject: nil, tokenExpiresAt: 1712403600.5, revokedAt: 1712400000,
            reason: "admin", actor: nil, entryExpiresAt: 1712403660.25)
        let object = RevocationJSON.entry(entry)
        #expect(object["sub"] == .null && object["actor"] == .null)
        #expect(object["exp"]?.numberValue?.text == "1712403600.5")
        #expect(object["expires_at"] == .string("2024-04-06T11:41:00.250Z"))
        #expect(object["expires_at_unix"]?.numberValue?.text == "1712403661")
    }

    @Test func theLogoutAnswerIsRevokedThenTheEntry() {
        let text = RevocationJSON.entry(Self.entry, revoked: true)
        #expect(text.hasPrefix(#"{"revoked":true,"iss":"https://auth.example.com","#))
        #expect(text.hasSuffix(#","expires_at_unix":1712403660}"#))
    }

    @Test func aCutoffNamesTheSecondFromWhichReplacementsAreAccepted() {
        let cutoff = Cutoff(
            issuer: "i", value: "u", cutoff: 1712400123.456, revokedAt: 1712400123.5, reason: "reset",
            actor: nil, entryExpiresAt: 1712486523.456)
        #expect(
            JSONWriter.compact(.object(RevocationJSON.cutoff(cutoff)))
                == #"{"iss":"i","by":"sub","value":"u","sub":"u","cutoff":"2024-04-06T10:42:03.456Z","#
                + #""cutoff_unix":1712400123.456,"reissue_at":"2024-04-06T10:42:04Z","revoked_at":"2024-04-06T10:42:03.500Z","#
                + #""reason":"reset","actor":null,"created_by":null,"expires_at":"2024-04-07T10:42:03.456Z"}"#)
    }
}
