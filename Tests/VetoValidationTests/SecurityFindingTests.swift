import Testing
import VetoCore
import VetoCrypto

/// Regression tests for the adversarial audit of 0c7f891 (issue 12), named after its findings.
/// The end-to-end halves, on the running service, are in Tests/EndToEnd/test_security_findings.py and test_security_findings_11_to_15.py.
@Suite struct SecurityFindingTests {
    let factory: TokenFactory

    init() throws {
        factory = try TokenFactory()
    }

    static let precomposed = "caf\u{E9}"  // "café", é as U+00E9
    static let decomposed = "cafe\u{301}"  // "café", e + U+0301 COMBINING ACUTE ACCENT
    static let kelvin = "\u{212A}elvin-api"  // U+212A KELVIN SIGN, canonically equivalent to "K"

    // MARK: Finding 3: quadratic JSON parsing

    /// 0c7f891 compared every new member name with every earlier one by canonical equivalence:
    /// 5,500 decomposed names cost about 280 ms. Names now compare by bytes through a set, so two
    /// names that differ only in normalisation are two members, as in every other JSON parser.
    @Test func finding03_memberNamesCompareByBytesNotCanonicalEquivalence() throws {
        let text = "{\"\(Self.precomposed)\":1,\"\(Self.decomposed)\":2}"
        let object = try JSONReader().parseObject(Array(text.utf8))
        #expect(object.count == 2)
        #expect(object[Self.precomposed] == .number(JSONNumber(1)))
        #expect(object[Self.decomposed] == .number(JSONNumber(2)))
    }

    @Test func finding03_duplicatesAreStillFoundPastTheScanLimit() throws {
        var members = (0..<5_500).map { "\"e\u{301}\($0)\":0" }
        members.append("\"e\u{301}4321\":1")
        let text = "{" + members.joined(separator: ",") + "}"
        #expect(throws: JSONError.self) { try JSONReader(maxMembers: 10_000).parseObject(Array(text.utf8)) }
        let distinct = "{" + members.dropLast().joined(separator: ",") + "}"
        #expect(try JSONReader(maxMembers: 10_000).parseObject(Array(distinct.utf8)).count == 5_500)
    }

    @Test func finding03_membersAndElementsAreCapped() throws {
        let object = "{" + (0..<65).map { "\"m\($0)\":0" }.joined(separator: ",") + "}"
        do {
            _ = try JSONReader(maxMembers: 64).parseObject(Array(object.utf8))
            Issue.record("65 members passed a cap of 64")
        } catch {
            #expect(error.kind == .tooManyMembers(limit: 64))
        }
        let array = "[" + Array(repeating: "0", count: 65).joined(separator: ",") + "]"
        #expect(throws: JSONError.self) { try JSONReader(maxMembers: 64).parse(Array(array.utf8)) }
        #expect(try JSONReader(maxMembers: 65).parse(Array(array.utf8)).arrayValue?.count == 65)
    }

    // MARK: Finding 5: identifiers compare by bytes (RFC 7519 §2)

    @Test func finding05_issuerComparesByBytes() throws {
        let policy = factory.policy { $0.issuer = "https://auth.example.com/tenants/" + Self.precomposed }
        let twin = try factory.token(claims: factory.claims(["iss": .string("https://auth.example.com/tenants/" + Self.decomposed)]))
        let failures = TokenValidator(policy: policy).validate(twin, now: TokenFactory.now).failures
        #expect(failures.map(\.code) == [.issuerUnknown])
        let exact = try factory.token(claims: factory.claims(["iss": .string("https://auth.example.com/tenants/" + Self.precomposed)]))
        #expect(TokenValidator(policy: policy).validate(exact, now: TokenFactory.now).isValid)
    }

    @Test func finding05_issuerRoutingComparesByBytes() throws {
        let first = factory.policy { $0.issuer = "https://" + Self.precomposed + ".example" }
        let second = IssuerPolicy(issuer: "https://other.example", keys: KeySet([factory.verification]))
        let validator = TokenValidator(policies: [first, second])
        let twin = try factory.token(claims: factory.claims(["iss": .string("https://" + Self.decomposed + ".example")]))
        #expect(validator.validate(twin, now: TokenFactory.now).failures.map(\.code) == [.issuerUnknown])
    }

    @Test func finding05_audienceComparesByBytes() throws {
        let policy = factory.policy { $0.audiences = ["Kelvin-api"] }
        let twin = try factory.token(claims: factory.claims(["aud": .string(Self.kelvin)]))
        #expect(TokenValidator(policy: policy).validate(twin, now: TokenFactory.now).failures.map(\.code) == [.audienceMismatch])
        let exact = try factory.token(claims: factory.claims(["aud": .string("Kelvin-api")]))
        #expect(TokenValidator(policy: policy).validate(exact, now: TokenFactory.now).isValid)
    }

    @Test func finding05_kidComparesByBytes() throws {
        let withKid = try TokenFactory(.es256, kid: "Key-1")
        let jwk = try withKid.key.publicJWK(kid: "Key-1")
        let keys = try KeyLoader.verificationKeys(from: Array(JSONWriter.compact(.object(jwk)).utf8), source: "jwks.json", algorithm: .es256).keys
        let policy = withKid.policy { $0.keys = KeySet(keys) }
        let twin = try withKid.token(header: .header(["kid": .string("\u{212A}ey-1")]))
        #expect(TokenValidator(policy: policy).validate(twin, now: TokenFactory.now).failures.map(\.code) == [.unknownKeyID])
        let exact = try withKid.token(header: .header(["kid": .string("Key-1")]))
        #expect(TokenValidator(policy: policy).validate(exact, now: TokenFactory.now).isValid)
    }

    @Test func finding05_typFoldsOnlyASCIICase() throws {
        let policy = factory.policy { $0.requiredType = "at+jwt" }
        let ascii = try factory.token(header: .header(["typ": .string("AT+JWT")]))
        #expect(TokenValidator(policy: policy).validate(ascii, now: TokenFactory.now).isValid)
        // U+212A lower-cases to "k" under Unicode rules; typ is compared by ASCII case folding only.
        let policyK = factory.policy { $0.requiredType = "k+jwt" }
        let twin = try factory.token(header: .header(["typ": .string("\u{212A}+jwt")]))
        #expect(TokenValidator(policy: policyK).validate(twin, now: TokenFactory.now).failures.map(\.code) == [.tokenTypeMismatch])
    }

    @Test func finding05_claimLookupComparesByBytes() throws {
        // A member spelt with U+212A is not the claim named with "K".
        let object = try JSONReader().parseObject(Array("{\"\u{212A}\":1}".utf8))
        #expect(object["K"] == nil)
        #expect(object["\u{212A}"] != nil)
    }

    // MARK: Finding 9: answers disclose configuration

    @Test func finding09_failureMessagesKeepTheInventoryInTheDetail() throws {
        let first = factory.policy()
        let second = IssuerPolicy(issuer: "https://secret-tenant.example", keys: KeySet([factory.verification]))
        let token = try factory.token(claims: factory.claims(["iss": .string("https://attacker.example")]))
        let failure = try #require(TokenValidator(policies: [first, second]).validate(token, now: TokenFactory.now).failures.first)
        #expect(failure.code == .issuerUnknown)
        #expect(failure.message.contains("https://attacker.example"))
        #expect(!failure.message.contains("secret-tenant") && !failure.message.contains(TokenFactory.issuer))
        #expect(failure.fullMessage.contains("secret-tenant"))

        let other = try TokenFactory(.es256)
        let forged = try #require(TokenValidator(policy: first).validate(try other.token(), now: TokenFactory.now).failures.first)
        #expect(forged.code == .signatureInvalid)
        #expect(!forged.message.contains("test.pem") && forged.fullMessage.contains("test.pem"))
    }

    // MARK: Finding 11: an empty jti

    @Test func finding11_emptyJtiIsMalformed() throws {
        let token = try factory.token(claims: factory.claims(["jti": .string("")]))
        let failures = TokenValidator(policy: factory.policy()).validate(token, now: TokenFactory.now).failures
        #expect(failures.map(\.code) == [.malformedClaim])
        #expect(failures.first?.message.contains("jti") == true)
    }

    // MARK: Finding 2: lifetimes bounded by the rules' assumption

    @Test func finding02_aTokenWithoutExpIsTooLongLivedWhenLifetimesAreBounded() throws {
        let policy = factory.policy {
            $0.requiredClaims = []; $0.maxLifetime = 86_400
        }
        let token = try factory.token(claims: factory.claims(["exp": nil]))
        #expect(TokenValidator(policy: policy).validate(token, now: TokenFactory.now).failures.map(\.code) == [.lifetimeTooLong])
    }

    @Test func finding02_expLessEntriesOutliveEveryTokenTheyCover() {
        let rules = RevocationRules(leeway: 60, maxTokenLifetime: 4)
        let now = 1_000.0
        // A token that existed at `now` has iat ≤ now + leeway (issuer clock ahead) and, with lifetimes
        // capped, exp ≤ iat + 4; it is accepted until exp + leeway.
        let lastAcceptance = now + 60 + 4 + 60
        #expect(rules.entryExpiry(tokenExpiresAt: nil, now: now) >= lastAcceptance)
        // A cut-off covers iat ≤ cutoff: accepted at most until cutoff + 4 + leeway.
        #expect(rules.cutoffExpiry(cutoff: now) >= now + 4 + 60)
    }

    // MARK: Finding 12: the cut-off's own second

    /// The rule: a cut-off refuses iat ≤ cutoff. A whole-second iat equal to the cut-off's second
    /// cannot show it came after, so it is refused; the next second is accepted.
    @Test func finding12_sameSecondIsRefusedNextSecondAccepted() {
        let cutoff = 1_712_400_000.600
        #expect(RevocationRules.cutoffRejects(issuedAt: 1_712_400_000, cutoff: cutoff))
        #expect(!RevocationRules.cutoffRejects(issuedAt: 1_712_400_001, cutoff: cutoff))
        // A fractional iat after the cut-off proves it and is accepted.
        #expect(!RevocationRules.cutoffRejects(issuedAt: 1_712_400_000.7, cutoff: cutoff))
        #expect(RevocationRules.cutoffRejects(issuedAt: 1_712_400_000.6, cutoff: cutoff))
    }
}
