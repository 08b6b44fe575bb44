import Foundation
import Testing
import VetoCore
import VetoSignals

/// SET validation (RFC 8417, SSF 1.0, the CAEP interoperability profile), subjects (RFC 9493) and
/// the effect of each event.
@Suite struct SecurityEventTests {
    typealias F = SignalFixture

    func judge(_ token: String, validator: SETValidator = F.setValidator()) -> Result<SecurityEvent, SignalRefusal> {
        let bytes = Array(token.utf8)
        if let refusal = validator.precheck(bytes) { return .failure(refusal) }
        return validator.judge(validator.validate(bytes, now: F.now), now: F.now)
    }

    func code(_ token: String, validator: SETValidator = F.setValidator()) -> String? {
        if case let .failure(refusal) = judge(token, validator: validator) { return refusal.code.rawValue }
        return nil
    }

    func effects(_ token: String, validator: SETValidator = F.setValidator()) throws -> [SignalEffect] {
        try judge(token, validator: validator).get().effects
    }

    static let user = #"{"format":"iss_sub","iss":"https://op.test","sub":"user-1"}"#
    static let session = #"{"format":"opaque","id":"sid-9"}"#

    @Test func sessionRevokedWithASessionCutsTheSessionOffForTheUsersIssuer() throws {
        let t = Int(F.now) - 30
        let found = try effects(
            F.set(event: #""subject":{"format":"complex","user":\#(Self.user),"session":\#(Self.session)},"event_timestamp":\#(t)"#))
        #expect(found == [SignalEffect(tokenIssuer: F.op, kind: .session, value: "sid-9", at: Double(t), createdBy: "ssf:https://tx.test")])
    }

    @Test func withoutASessionItCutsTheUserOffAtTheSETsIssueTime() throws {
        let iat = Int(F.now) - 5
        let found = try effects(F.set(iat: iat))
        #expect(found == [SignalEffect(tokenIssuer: F.op, kind: .subject, value: "user-1", at: Double(iat), createdBy: "ssf:https://tx.test")])
    }

    @Test func opaqueAndEmailSubjectsApplyToEveryTokenIssuer() throws {
        let validator = F.setValidator(tokenIssuers: [F.op, F.other])
        let opaque = try effects(
            F.set(SignalEvent.credentialChange.rawValue, event: #""subject":{"format":"opaque","id":"u7"}"#), validator: validator)
        #expect(opaque.map(\.tokenIssuer) == [F.op, F.other] && opaque.allSatisfy { $0.kind == .subject && $0.value == "u7" })
        let email = try effects(
            F.set(SignalEvent.accountDisabled.rawValue, event: #""subject":{"format":"email","email":"a@example.com"}"#), validator: validator)
        #expect(email.map(\.kind) == [.email, .email] && email[0].value == "a@example.com")
        // A complex subject whose user is opaque: its session in every token issuer.
        let complex = try effects(
            F.set(event: #""subject":{"format":"complex","user":{"format":"opaque","id":"u"},"session":\#(Self.session)}"#), validator: validator)
        #expect(complex.map(\.kind) == [.session, .session] && complex.map(\.tokenIssuer) == [F.op, F.other])
    }

    @Test(arguments: [
        SignalEvent.credentialChange, .accountDisabled, .accountPurged, .sessionsRevoked, .credentialCompromise
    ])
    func userEventsCutTheUserOffEvenWithASession(event: SignalEvent) throws {
        let found = try effects(F.set(event.rawValue, event: #""subject":{"format":"complex","user":\#(Self.user),"session":\#(Self.session)}"#))
        #expect(found.map(\.kind) == [.subject] && found[0].value == "user-1")
    }

    @Test func theTopLevelSubIdIsTheSubjectWhenTheEventHasNone() throws {
        let found = try effects(F.set(event: #""event_timestamp":1"#, extra: #","sub_id":{"format":"opaque","id":"u9"}"#))
        #expect(found == [SignalEffect(tokenIssuer: F.op, kind: .subject, value: "u9", at: 1, createdBy: "ssf:https://tx.test")])
    }

    @Test func ignoredEventsHaveNoEffectAndNeedNoSubject() throws {
        let claims = try judge(F.set(SignalEvent.tokenClaimsChange.rawValue, event: #""subject":{"format":"phone_number","phone_number":"+1"}"#))
            .get()
        #expect(claims.effects.isEmpty && claims.event == .tokenClaimsChange)
        let unknown = try judge(F.set("https://example.com/event/x", event: "")).get()
        #expect(unknown.effects.isEmpty && unknown.event == nil && unknown.shortName == "unknown")
        let verification = try judge(F.set(SignalEvent.verification.rawValue, event: #""state":"abc""#)).get()
        #expect(verification.effects.isEmpty && verification.verificationState == "abc" && verification.shortName == "verification")
    }

    @Test(arguments: [
        (#""subject":{"format":"iss_sub","iss":"https://evil.test","sub":"u"}"#, "subject_unsupported"),
        (#""subject":{"format":"phone_number","phone_number":"+1"}"#, "subject_unsupported"),
        (#""subject":{"format":"complex","device":{"format":"opaque","id":"d"}}"#, "subject_unsupported"),
        (#""subject":{"format":"complex","user":{"format":"complex","user":\#(user)}}"#, "subject_unsupported"),
        (#""subject":{"format":"complex","user":\#(user),"session":{"format":"email","email":"a@b"}}"#, "subject_unsupported"),
        (#""subject":{"format":"iss_sub","iss":"https://op.test"}"#, "missing_claim"),
        (#""subject":{"format":"opaque","id":""}"#, "malformed_claim"),
        (#""subject":{"format":"opaque","id":"a\u001b[2Jb"}"#, "malformed_claim"),
        (#""subject":{"format":"opaque","id":"\#(String(repeating: "x", count: 600))"}"#, "malformed_claim"),
        (#""subject":"user-1""#, "malformed_claim"),
        (#""subject":{"id":"x"}"#, "malformed_claim"),
        ("", "missing_claim"),
        (#""subject":\#(user),"event_timestamp":"yesterday""#, "malformed_claim"),
        (#""subject":\#(user),"event_timestamp":99999999999"#, "malformed_claim")
    ])
    func subjectsAndTimesVetoCannotActOnAreRefused(event: String, expected: String) {
        #expect(code(F.set(event: event)) == expected, "\(event)")
    }

    @Test func opaqueSubjectsWithoutTokenIssuersAreRefused() {
        let validator = F.setValidator(tokenIssuers: [])
        #expect(
            code(F.set(SignalEvent.credentialChange.rawValue, event: #""subject":{"format":"opaque","id":"u"}"#), validator: validator)
                == "subject_unsupported")
        // iss_sub subjects too: a transmitter cuts off users only of its token_issuers, even when the
        // subject names another configured issuer.
        #expect(code(F.set(), validator: validator) == "subject_unsupported")
        #expect(code(F.set(), validator: F.setValidator(tokenIssuers: [F.other])) == "subject_unsupported")
        #expect(code(F.set()) == nil)
    }

    @Test func theSETItselfIsChecked() {
        let t = Int(F.now)
        #expect(code(F.set(typ: "JWT")) == "token_type_mismatch")
        #expect(code(F.set(typ: "at+jwt")) == "token_type_mismatch")
        #expect(code(F.set(typ: "application/SECEVENT+JWT")) == nil)
        #expect(code(F.set(iss: "https://other-tx.test")) == "issuer_unknown")
        #expect(code(F.set(aud: "https://elsewhere.test")) == "audience_mismatch")
        #expect(code(F.set(key: F.strangerRS)) == "signature_invalid")
        #expect(code(F.set(alg: "RS384")) == "algorithm_not_allowed")
        #expect(code(F.set(alg: "HS256")) == "algorithm_not_allowed")
        #expect(code(F.set(iat: t + 600)) == "token_not_yet_valid")
        #expect(code(F.set(extra: #","exp":\#(t - 300)"#)) == "token_expired")
        #expect(code(F.set(extra: #","exp":\#(t + 300)"#)) == nil)
        #expect(code(F.set(jti: "")) == "malformed_claim")
        // RS256 pinned, but the key is ES256-only in this receiver: nothing verifies.
        #expect(code(F.set(), validator: F.setValidator(algorithms: [.es256])) == "algorithm_not_allowed")
    }

    @Test func eventsMustBeExactlyOne() {
        let t = Int(F.now)
        let header = #"{"alg":"RS256","kid":"tx-1","typ":"secevent+jwt"}"#
        func set(_ events: String) -> String {
            F.sign(header: header, payload: #"{"iss":"https://tx.test","aud":"https://veto.test/ssf","iat":\#(t),"jti":"j"\#(events)}"#, key: F.txKey)
        }
        #expect(code(set("")) == "events_missing")
        #expect(code(set(#","events":{}"#)) == "events_missing")
        #expect(code(set(#","events":[]"#)) == "malformed_claim")
        #expect(code(set(#","events":{"\#(SignalEvent.sessionRevoked.rawValue)":"x"}"#)) == "malformed_claim")
        let two = #","events":{"\#(SignalEvent.sessionRevoked.rawValue)":{},"\#(SignalEvent.credentialChange.rawValue)":{}}"#
        #expect(code(set(two)) == "events_too_many")
        let many = (0..<500).map { #""https://e.test/\#($0)":{}"# }.joined(separator: ",")
        #expect(code(set(#","events":{\#(many)}"#)) == "events_too_many")
    }

    @Test func anAccessTokenOrALogoutTokenIsNeverASET() {
        let t = Int(F.now)
        let access = F.sign(
            header: #"{"alg":"RS256","kid":"tx-1","typ":"at+jwt"}"#,
            payload: #"{"iss":"https://tx.test","aud":"https://veto.test/ssf","iat":\#(t),"exp":\#(t + 60),"jti":"j","sub":"u"}"#, key: F.txKey)
        #expect(code(access) == "token_type_mismatch")
        let untyped = F.sign(
            header: #"{"alg":"RS256","kid":"tx-1"}"#,
            payload: #"{"iss":"https://tx.test","aud":"https://veto.test/ssf","iat":\#(t),"jti":"j",\#(F.logoutEvent)}"#, key: F.txKey)
        #expect(code(untyped) == "token_type_mismatch")
    }

    @Test func deepOrHugeJSONIsRefusedCleanly() {
        let deep = String(repeating: #"{"a":"#, count: 40) + "1" + String(repeating: "}", count: 40)
        #expect(code(F.set(event: #""subject":\#(deep)"#)) == "malformed_token")
        let huge = F.set(event: #""x":"\#(String(repeating: "y", count: 40_000))""#)
        #expect(code(huge) == "malformed_token")
    }
}
