import Foundation
import Testing
import VetoCore
import VetoSignals

/// OpenID Connect Back-Channel Logout 1.0 §2.6, check by check.
@Suite struct LogoutTokenTests {
    typealias F = SignalFixture

    func judge(_ token: String) -> Result<LogoutToken, SignalRefusal> {
        let bytes = Array(token.utf8)
        switch F.logoutValidator.issuer(of: bytes) {
        case let .failure(refusal): return .failure(refusal)
        case let .success(issuer): return F.logoutValidator.judge(F.logoutValidator.validate(bytes, issuer: issuer, now: F.now))
        }
    }

    func code(_ token: String) -> String? {
        if case let .failure(refusal) = judge(token) { return refusal.code.rawValue }
        return nil
    }

    @Test func aTokenWithASessionCutsTheSessionOffAtItsIssueTime() throws {
        let token = try judge(F.logoutToken()).get()
        #expect(token.effect.kind == .session && token.effect.value == "session-1" && token.effect.tokenIssuer == F.op)
        #expect(token.effect.at == token.issuedAt && token.effect.createdBy == "backchannel_logout")
    }

    @Test func aTokenWithOnlyASubjectCutsTheSubjectOff() throws {
        let t = Int(F.now)
        let token = try judge(
            F.logoutToken(claims: #""iss":"\#(F.op)","aud":["x","client-b"],"iat":\#(t),"exp":\#(t + 60),"jti":"j","sub":"user-1",\#(F.logoutEvent)"#)
        ).get()
        #expect(token.effect == SignalEffect(tokenIssuer: F.op, kind: .subject, value: "user-1", at: Double(t), createdBy: "backchannel_logout"))
    }

    @Test(arguments: [nil, "JWT", "logout+jwt", "application/logout+JWT"])
    func theAcceptedTypes(typ: String?) {
        #expect(code(F.logoutToken(typ: typ)) == nil)
    }

    @Test(arguments: ["at+jwt", "secevent+jwt", "id_token", ""])
    func anyOtherTypeIsRefused(typ: String) {
        #expect(code(F.logoutToken(typ: typ)) == "token_type_mismatch")
    }

    static var t: Int { Int(SignalFixture.now) }
    static let base = #""iss":"https://op.test","aud":"client-a","jti":"j1","sid":"s""#

    @Test(arguments: [
        ("\(base),\"iat\":\(t),\"exp\":\(t + 60)", "events_missing"),
        ("\(base),\"iat\":\(t),\"exp\":\(t + 60),\"events\":{}", "events_missing"),
        ("\(base),\"iat\":\(t),\"exp\":\(t + 60),\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":true}", "malformed_claim"),
        ("\(base),\"iat\":\(t),\"exp\":\(t + 60),\"events\":[]", "malformed_claim"),
        ("\(base),\"iat\":\(t),\"exp\":\(t + 60),\"nonce\":\"n\",\(SignalFixture.logoutEvent)", "nonce_present"),
        ("\(base),\"iat\":\(t - 600),\"exp\":\(t - 300),\(SignalFixture.logoutEvent)", "token_expired"),
        ("\(base),\"iat\":\(t + 600),\"exp\":\(t + 900),\(SignalFixture.logoutEvent)", "token_not_yet_valid"),
        ("\(base),\"exp\":\(t + 60),\(SignalFixture.logoutEvent)", "missing_claim"),
        ("\(base),\"iat\":\(t),\(SignalFixture.logoutEvent)", "missing_claim"),
        (#""iss":"https://op.test","aud":"client-a","sid":"s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#, "missing_claim"),
        (#""iss":"https://op.test","aud":"client-a","jti":"j","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#, "missing_claim"),
        (#""iss":"https://op.test","aud":"api","jti":"j","sid":"s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#, "audience_mismatch"),
        (#""iss":"https://op.test","jti":"j","sid":"s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#, "missing_claim"),
        (
            #""iss":"https://op.test","aud":"client-a","jti":"j","sid":7,"iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "malformed_claim"
        ),
        (
            #""iss":"https://op.test","aud":"client-a","jti":"j","sid":"a\nb","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "malformed_claim"
        ),
        (
            #""iss":"https://op.test","aud":"client-a","jti":"j","sid":" s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "malformed_claim"
        ),
        (
            #""iss":"https://op.test","aud":"client-a","jti":"j","sub":"u\u202e","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "malformed_claim"
        ),
        (
            #""iss":"https://op.test","aud":"client-a","jti":"","sid":"s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "malformed_claim"
        ),
        (
            #""iss":"https://op.test","aud":"client-a","jti":"j","sid":"\#(String(repeating: "s", count: 513))","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "malformed_claim"
        ),
        (
            #""iss":"https://elsewhere.test","aud":"client-a","jti":"j","sid":"s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#,
            "issuer_unknown"
        ),
        (#""aud":"client-a","jti":"j","sid":"s","iat":\#(t),"exp":\#(t + 60),\#(SignalFixture.logoutEvent)"#, "issuer_unknown")
    ])
    func eachRefusalHasItsCode(claims: String, expected: String) {
        #expect(code(F.logoutToken(claims: claims)) == expected, "\(claims)")
    }

    @Test func aForeignSignatureAnUnknownKidAndAnotherAlgorithmAreRefused() {
        #expect(code(F.logoutToken(key: F.strangerES)) == "signature_invalid")
        #expect(code(F.logoutToken(alg: "ES384")) == "algorithm_not_allowed")
        #expect(code(F.logoutToken(alg: "none")) == "algorithm_not_allowed")
        // The RS256 transmitter key is not the OP's: an algorithm confusion finds no RS256 key here.
        #expect(code(F.logoutToken(key: F.txKey, alg: "RS256")) == "algorithm_not_allowed")
        let unknownKid = F.sign(
            header: #"{"alg":"ES256","kid":"op-2"}"#,
            payload: #"{"iss":"https://op.test","aud":"client-a","iat":1,"exp":2,"jti":"j","sid":"s",\#(F.logoutEvent)}"#, key: F.opKey)
        #expect(code(unknownKid) == "unknown_key_id")
    }

    @Test func anAccessTokenOfTheSameIssuerIsNeverALogoutToken() {
        let t = Int(F.now)
        // Signed by the issuer, for the client, typ JWT: without the event it is not a logout.
        let accessToken = F.sign(
            header: #"{"alg":"ES256","kid":"op-1","typ":"JWT"}"#,
            payload: #"{"iss":"https://op.test","aud":"client-a","iat":\#(t),"exp":\#(t + 300),"jti":"j","sub":"user-1","sid":"s"}"#, key: F.opKey)
        #expect(code(accessToken) == "events_missing")
        // An ID token has a nonce.
        let idToken = F.logoutToken(
            claims: #""iss":"https://op.test","aud":"client-a","iat":\#(t),"exp":\#(t + 60),"jti":"j","sid":"s","nonce":"n",\#(F.logoutEvent)"#)
        #expect(code(idToken) == "nonce_present")
    }

    @Test(arguments: ["", "a.b", "a.b.c.d.e", "!!!.???.###"])
    func garbageIsMalformed(token: String) {
        let refused = code(token)
        #expect(refused == "malformed_token")
    }
}
