import Testing
import VetoCore

@testable import VetoStore

/// Replay reads Veto's own `revoke` records without a JSON tree; whatever it reads must equal what the
/// general JSON reader reads, and anything outside that layout must still go the general way.
@Suite struct JournalReplayTests {
    static func general(_ payload: [UInt8]) -> JournalRecord? {
        guard let object = try? JSONReader().parseObject(payload), object["op"]?.stringValue == "revoke",
            let entry = EntryJSON.entry(object)
        else { return nil }
        return .revoke(entry)
    }

    static let strings = [
        "", "a", "x:1", "é ü 字", "tab\there", "quote\"q", "back\\slash", "\u{2028}", "nul\u{0}", "scale-0000001",
        "https://auth.example.com", "auth0|5f7c8ec7c33c6c004bbafe82", "\u{7F}", "😀"
    ]
    static let times: [Double] = [0, 1, 1712400000, 1712400123.456, 1712400123.4, 1712400123.05, 253402300799.999, -5.5, 0.001]

    @Test func everyWrittenRecordReadsTheSameBothWays() {
        var generator = SystemRandomNumberGenerator()
        var fast = 0
        for _ in 0..<3000 {
            let entry = RevocationEntry(
                issuer: Self.strings.randomElement(using: &generator)!, jti: Self.strings.randomElement(using: &generator)!,
                subject: Bool.random(using: &generator) ? nil : Self.strings.randomElement(using: &generator)!,
                tokenExpiresAt: Bool.random(using: &generator) ? nil : Self.times.randomElement(using: &generator)!,
                revokedAt: Self.times.randomElement(using: &generator)!, reason: Self.strings.randomElement(using: &generator)!,
                actor: Bool.random(using: &generator) ? nil : Self.strings.randomElement(using: &generator)!,
                entryExpiresAt: Double.random(in: 0..<253402300799, using: &generator))
            let payload = JournalRecord.revoke(entry).payload
            let general = Self.general(payload)
            #expect(general != nil)
            #expect(JournalRecord(payload: payload[...]) == general)
            if let quick = JournalRecord.fastRevoke(payload[...]) {
                fast += 1
                #expect(quick == general, "\(String(decoding: payload, as: UTF8.self))")
            }
        }
        #expect(fast > 100, "records without escapes take the fast path")
    }

    @Test func otherLayoutsTakeTheGeneralPath() {
        let variants = [
            #"{ "op":"revoke","iss":"i","jti":"j","sub":null,"exp":null,"revoked_at":1,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"iss":"i","op":"revoke","jti":"j","sub":null,"exp":null,"revoked_at":1,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"op":"revoke","iss":"i","jti":"j","sub":null,"exp":null,"revoked_at":1.0,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"op":"revoke","iss":"i","jti":"j","sub":null,"exp":null,"revoked_at":1e3,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"op":"revoke","iss":"i","jti":"j","sub":null,"exp":null,"revoked_at":1.2345,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"op":"revoke","iss":"i","jti":"j\u0041","sub":null,"exp":null,"revoked_at":1,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"op":"revoke","iss":"i","jti":"j","sub":null,"exp":null,"revoked_at":01,"reason":"r","actor":null,"expires_at":2}"#,
            #"{"op":"revoke","iss":"i","jti":"j","sub":null,"exp":null,"revoked_at":1,"reason":"r","actor":null,"expires_at":2,"x":1}"#
        ]
        for variant in variants {
            let payload = Array(variant.utf8)
            #expect(JournalRecord.fastRevoke(payload[...]) == nil, "\(variant)")
            #expect(JournalRecord(payload: payload[...]) == Self.general(payload), "\(variant)")
        }
    }
}
