import Testing
import VetoCore
import VetoCrypto

/// One test per reason code: the code, and a sentence that names the actual and the expected value.
@Suite struct ReasonCodeTests {
    let factory: TokenFactory

    init() throws {
        factory = try TokenFactory()
    }

    func failures(_ token: String, now: Double = TokenFactory.now + 60, policy: IssuerPolicy? = nil) -> [ValidationFailure] {
        TokenValidator(policy: policy ?? factory.policy()).validate(token, now: now).failures
    }

    func only(_ code: ReasonCode, in failures: [ValidationFailure], sourceLocation: SourceLocation = #_sourceLocation) throws -> ValidationFailure {
        #expect(failures.map(\.code) == [code], sourceLocation: sourceLocation)
        return try #require(failures.first { $0.code == code }, sourceLocation: sourceLocation)
    }

    @Test func validTokenHasNoFailures() throws {
        let report = TokenValidator(policy: factory.policy()).validate(try factory.token(), now: TokenFactory.now + 60)
        #expect(report.isValid)
        #expect(report.claims?.subject == "user_482")
        #expect(report.key?.algorithm == .es256)
    }

    @Test func malformedToken() throws {
        let failure = try only(.malformedToken, in: failures("abc.def"))
        #expect(failure.message.contains("2 segments") && failure.message.contains("exactly 3"))
    }

    @Test func encryptedTokenUnsupported() throws {
        let failure = try only(.encryptedTokenUnsupported, in: failures("a.b.c.d.e"))
        #expect(failure.message.contains("5 segments") && failure.message.contains("JWS (3 segments)"))
    }

    @Test func tokenTooLarge() throws {
        let big = try factory.token(claims: factory.claims(["pad": .string(String(repeating: "x", count: 9000))]))
        let failure = try only(.tokenTooLarge, in: failures(big))
        #expect(failure.message.contains("\(big.utf8.count) bytes") && failure.message.contains("8192"))
    }

    @Test func unsupportedCriticalHeader() throws {
        let token = try factory.token(header: .header(["crit": .array([.string("urn:example:ext")]), "urn:example:ext": .bool(true)]))
        let failure = try only(.unsupportedCriticalHeader, in: failures(token))
        #expect(failure.message.contains("urn:example:ext"))
    }

    @Test func algorithmNotAllowed() throws {
        let rsa = try TokenFactory(.rs256)
        let failure = try only(.algorithmNotAllowed, in: failures(try rsa.token()))
        #expect(failure.message.contains("alg is RS256") && failure.message.contains("pinned to ES256"))
    }

    @Test func unknownKeyID() throws {
        let withKid = try TokenFactory(.es256, kid: "2024-01")
        let jwk = try withKid.key.publicJWK(kid: "2024-01")
        let keys = try KeyLoader.verificationKeys(from: Array(JSONWriter.compact(.object(jwk)).utf8), source: "jwks.json", algorithm: .es256).keys
        let policy = factory.policy { $0.keys = KeySet(keys) }
        let token = try withKid.token(header: .header(["kid": .string("2024-02")]))
        let failure = try only(.unknownKeyID, in: failures(token, policy: policy))
        #expect(failure.message.contains("\"2024-02\"") && failure.fullMessage.contains("\"2024-01\""))
        #expect(!failure.message.contains("\"2024-01\""))  // the known kids are for the terminal only
        #expect(failure.hint?.contains("rotated") == true)
    }

    @Test func signatureInvalid() throws {
        let other = try TokenFactory(.es256)
        let failure = try only(.signatureInvalid, in: failures(try other.token()))
        #expect(failure.message.contains("ES256 key") && failure.fullMessage.contains("test.pem"))
        #expect(!failure.message.contains("test.pem"))  // key files are for the terminal only
    }

    @Test func tokenExpired() throws {
        let failure = try only(.tokenExpired, in: failures(try factory.token(), now: TokenFactory.now + 3600 + 3 * 3600 + 12 * 60))
        #expect(failure.message.contains("2024-04-06T11:40:00Z") && failure.message.contains("3 h 12 min ago"))
        #expect(failure.message.contains("leeway 1 min"))
    }

    @Test func expiryHonoursLeeway() throws {
        #expect(failures(try factory.token(), now: TokenFactory.now + 3600 + 59).isEmpty)
        #expect(failures(try factory.token(), now: TokenFactory.now + 3600 + 60).map(\.code) == [.tokenExpired])
    }

    @Test func tokenNotYetValid() throws {
        let token = try factory.token(claims: factory.claims(["nbf": .number(JSONNumber(Int64(TokenFactory.now + 600)))]))
        let failure = try only(.tokenNotYetValid, in: failures(token, now: TokenFactory.now))
        #expect(failure.message.contains("2024-04-06T10:50:00Z") && failure.message.contains("10 min from now"))
    }

    @Test func issuerUnknown() throws {
        let token = try factory.token(claims: factory.claims(["iss": .string("https://auth.legacy.example.com")]))
        let failure = try only(.issuerUnknown, in: failures(token))
        #expect(failure.message.contains("https://auth.legacy.example.com") && failure.message.contains(TokenFactory.issuer))
    }

    @Test func issuerUnknownWhenRoutingAmongSeveral() throws {
        let second = IssuerPolicy(issuer: "https://login.example.org", keys: KeySet([factory.verification]))
        let validator = TokenValidator(policies: [factory.policy(), second])
        let token = try factory.token(claims: factory.claims(["iss": .string("https://evil.example")]))
        let failures = validator.validate(token, now: TokenFactory.now).failures
        let failure = try only(.issuerUnknown, in: failures)
        #expect(failure.message.contains("https://evil.example") && failure.fullMessage.contains("https://login.example.org"))
        #expect(!failure.message.contains("https://login.example.org"))  // the inventory is for the terminal only
    }

    @Test func audienceMismatch() throws {
        let token = try factory.token(claims: factory.claims(["aud": .array([.string("https://api-staging.example.com"), .string("x")])]))
        let failure = try only(.audienceMismatch, in: failures(token))
        #expect(failure.message.contains("https://api-staging.example.com") && failure.message.contains(TokenFactory.audience))
    }

    @Test func tokenTypeMismatch() throws {
        let policy = factory.policy { $0.requiredType = "at+jwt" }
        let failure = try only(.tokenTypeMismatch, in: failures(try factory.token(header: .header(["typ": .string("JWT")])), policy: policy))
        #expect(failure.message.contains("\"JWT\"") && failure.message.contains("\"at+jwt\""))
        #expect(failures(try factory.token(header: .header(["typ": .string("application/AT+JWT")])), policy: policy).isEmpty)
    }

    /// A logout token or SET is signed with the issuer's keys and may name an accepted audience (a client id):
    /// it is still never a credential. Only the signal receivers set `acceptsSecurityEvents`.
    @Test func securityEventTokensAreNeverAccessTokens() throws {
        let logoutEvent: JSONValue = .object(
            JSONObject(members: [.init(name: "http://schemas.openid.net/event/backchannel-logout", value: .object(JSONObject()))]))
        let tokens = [
            try factory.token(header: .header(["typ": .string("logout+jwt")])),
            try factory.token(header: .header(["typ": .string("application/SecEvent+JWT")])),
            try factory.token(claims: factory.claims(["events": logoutEvent])),
            try factory.token(claims: factory.claims(["events": .object(JSONObject())]))
        ]
        for token in tokens {
            let failure = try only(.tokenTypeMismatch, in: failures(token))
            #expect(failure.message.contains("not an access token"))
            #expect(failures(token, policy: factory.policy { $0.acceptsSecurityEvents = true }).isEmpty)
        }
        // An `events` claim that is not an object is an ordinary private claim.
        #expect(failures(try factory.token(claims: factory.claims(["events": .string("none")]))).isEmpty)
    }

    @Test func lifetimeTooLong() throws {
        let policy = factory.policy { $0.maxLifetime = 1800 }
        let failure = try only(.lifetimeTooLong, in: failures(try factory.token(), policy: policy))
        #expect(failure.message.contains("1 h") && failure.message.contains("30 min"))
    }

    @Test func missingClaim() throws {
        let token = try factory.token(claims: factory.claims(["jti": nil]))
        let failure = try only(.missingClaim, in: failures(token))
        #expect(failure.message.contains("\"jti\"") && failure.message.contains("required"))
        let noExp = try factory.token(claims: factory.claims(["exp": nil]))
        #expect(try only(.missingClaim, in: failures(noExp)).message.contains("\"exp\""))
    }

    @Test(arguments: [
        ("exp", JSONValue.string("1712403600")), ("exp", .null), ("exp", .bool(true)),
        ("nbf", .number(JSONNumber(text: "1e400", doubleValue: .infinity))), ("iat", .object(JSONObject())),
        ("exp", .number(JSONNumber(text: "1712403600000", doubleValue: 1_712_403_600_000))),
        ("aud", .number(JSONNumber(5))), ("aud", .object(JSONObject())), ("aud", .array([.number(JSONNumber(1))])),
        ("iss", .number(JSONNumber(1))), ("sub", .bool(false)), ("jti", .array([]))
    ])
    func malformedClaim(name: String, value: JSONValue) throws {
        let token = try factory.token(claims: factory.claims([name: value]))
        let all = failures(token)
        let failure = try #require(all.first { $0.code == .malformedClaim })
        #expect(failure.message.contains("\"\(name)\""))
        #expect(failure.message.contains("must be"))
        // A malformed claim is never mistaken for an absent one, and never passes.
        #expect(!all.contains { $0.code == .missingClaim && $0.message.contains("\"\(name)\"") })
    }

    @Test func everyFailureIsReportedInChecklistOrder() throws {
        let other = try TokenFactory(.es256)
        let token = try other.token(claims: other.claims(["aud": .string("https://other"), "jti": nil]))
        let codes = failures(token, now: TokenFactory.now + 7200).map(\.code)
        #expect(codes == [.signatureInvalid, .tokenExpired, .audienceMismatch, .missingClaim])
    }

    @Test func rfc7515AppendixA5UnsecuredTokenIsRejected() throws {
        let a5 = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        let policy = IssuerPolicy(keys: KeySet([factory.verification]))
        let failure = try #require(TokenValidator(policy: policy).validate(a5, now: 1_300_819_000).failures.first)
        #expect(failure.code == .algorithmNotAllowed)
        #expect(failure.message.contains("\"none\""))
    }

    /// Codes raised outside the pure validator are tested where they arise.
    @Test func everyReasonCodeIsCovered() {
        let testedHere: Set<ReasonCode> = [
            .malformedToken, .encryptedTokenUnsupported, .tokenTooLarge, .unsupportedCriticalHeader, .algorithmNotAllowed,
            .unknownKeyID, .signatureInvalid, .tokenExpired, .tokenNotYetValid, .issuerUnknown, .audienceMismatch,
            .tokenTypeMismatch, .lifetimeTooLong, .missingClaim, .malformedClaim
        ]
        // token_revoked, the cut-off codes, store_unavailable and missing_token come from the service
        // (Tests/EndToEnd/test_service.py, test_service_operations.py and test_cutoffs.py assert each on real HTTP with a
        // real redis-server; CutoffCheckTests in VetoStoreTests each cut-off kind against both stores).
        let testedByService: Set<ReasonCode> = [
            .tokenRevoked, .subjectRevoked, .sessionRevoked, .keyRevoked, .clientRevoked, .issuerCutoff, .emailRevoked, .storeUnavailable,
            .missingToken
        ]
        #expect(testedHere.union(testedByService) == Set(ReasonCode.allCases))
    }
}

@Suite struct IdentifierLimitTests {
    @Test func overLongJtiAndSubAreRefusedWhenTheServiceBoundsThem() throws {
        let factory = try TokenFactory()
        let long = String(repeating: "j", count: 513)
        let token = try factory.token(claims: factory.claims(["jti": .string(long), "sub": .string(long)]))
        let bounded = factory.policy { $0.maxIdentifierBytes = 512 }
        let failures = TokenValidator(policy: bounded).validate(token, now: TokenFactory.now).failures
        #expect(failures.map(\.code) == [.malformedClaim, .malformedClaim])
        #expect(failures.allSatisfy { $0.message.contains("513 bytes") && $0.message.contains("512") })
        #expect(TokenValidator(policy: factory.policy()).validate(token, now: TokenFactory.now).isValid)
    }
}
