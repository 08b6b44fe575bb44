import Testing
import VetoCore

@Suite struct CompactJWSTests {
    static func segment(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }
    static let header = segment(#"{"alg":"RS256","typ":"JWT"}"#)
    static let payload = segment(#"{"sub":"u"}"#)

    func failure(_ token: String, maxSize: Int = CompactJWS.defaultMaxSize) -> ValidationFailure? {
        do {
            _ = try CompactJWS.parse(token, maxSize: maxSize)
            return nil
        } catch {
            return error
        }
    }

    @Test func splitsThreeSegments() throws {
        let jws = try CompactJWS.parse("\(Self.header).\(Self.payload).AQID")
        #expect(jws.header.algorithmName == "RS256")
        #expect(jws.header.type == "JWT")
        #expect(jws.payload == Array(#"{"sub":"u"}"#.utf8))
        #expect(jws.signature == [1, 2, 3])
        #expect(Array(jws.signingInput) == Array("\(Self.header).\(Self.payload)".utf8))
    }

    @Test func fiveSegmentsIsJWE() {
        let failure = failure("a.b.c.d.e")
        #expect(failure?.code == .encryptedTokenUnsupported)
        #expect(failure?.message.contains("5 segments") == true)
    }

    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "a.b.c.d.e.f"])
    func wrongSegmentCountIsMalformed(token: String) {
        #expect(failure(token)?.code == .malformedToken)
    }

    @Test func sizeIsCheckedBeforeDecoding() {
        let huge = String(repeating: "!", count: 9000)
        let failure = failure(huge)
        #expect(failure?.code == .tokenTooLarge)
        #expect(failure?.message.contains("9000") == true && failure?.message.contains("8192") == true)
    }

    @Test func namesTheBadSegment() {
        let badPayload = failure("\(Self.header).e30=.AQID")
        #expect(badPayload?.code == .malformedToken)
        #expect(badPayload?.message.contains("payload segment (2 of 3)") == true)
        #expect(badPayload?.message.contains("padding") == true)
        let badHeader = failure("\(Self.segment("[1]")).\(Self.payload).AQID")
        #expect(badHeader?.message.contains("header segment (1 of 3) is not a JSON object") == true)
    }

    @Test func rejectsDuplicateHeaderMembers() {
        let duplicate = Self.segment(#"{"alg":"RS256","alg":"none"}"#)
        let failure = failure("\(duplicate).\(Self.payload).AQID")
        #expect(failure?.code == .malformedToken)
        #expect(failure?.message.contains("appears twice") == true)
    }

    @Test func rejectsUnknownCriticalHeaders() {
        let crit = Self.segment(#"{"alg":"RS256","crit":["exp"],"exp":1}"#)
        #expect(failure("\(crit).\(Self.payload).AQID")?.code == .unsupportedCriticalHeader)
        let b64 = Self.segment(#"{"alg":"HS256","b64":false,"crit":["b64"]}"#)
        #expect(failure("\(b64).\(Self.payload).AQID")?.code == .unsupportedCriticalHeader)
        let empty = Self.segment(#"{"alg":"RS256","crit":[]}"#)
        #expect(failure("\(empty).\(Self.payload).AQID")?.code == .malformedToken)
    }

    @Test func algMustBeAString() {
        let numeric = Self.segment(#"{"alg":256}"#)
        #expect(failure("\(numeric).\(Self.payload).AQID")?.message.contains("not a string") == true)
        let missing = Self.segment(#"{"typ":"JWT"}"#)
        #expect(failure("\(missing).\(Self.payload).AQID")?.message.contains("no \"alg\"") == true)
    }
}
