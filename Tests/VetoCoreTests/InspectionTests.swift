import Testing
import VetoCore

@Suite struct InspectionTests {
    static let seed =
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzQ4MiIsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlLmNvbSIsImF1ZCI6Imh0dHBzOi8vYXBpLmV4YW1wbGUuY29tIiwiaWF0IjoxNzEyNDAwMDAwLCJleHAiOjE3MTI0MDM2MDB9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

    static func token(_ claims: String, header: String = #"{"alg":"HS256"}"#) -> String {
        "\(Base64URL.encode(Array(header.utf8))).\(Base64URL.encode(Array(claims.utf8))).AQID"
    }

    @Test func seedTokenStatusOverTime() throws {
        let before = try TokenInspection.inspect(Self.seed, now: 1_712_401_140)
        #expect(before.status == .valid(remaining: 2460))
        #expect(before.lifetime == 3600)
        #expect(before.claims.names == ["sub", "iss", "aud", "iat", "exp"])
        #expect(before.times.map(\.name) == ["iat", "exp"])
        #expect(before.times.last?.iso8601 == "2024-04-06T11:40:00Z")
        let after = try TokenInspection.inspect(Self.seed, now: 1_712_403_600 + 3 * 3600 + 12 * 60)
        #expect(after.status == .expired(ago: 3 * 3600 + 12 * 60))
        #expect(after.warnings.map(\.code) == ["no_jti"])
    }

    @Test func warnsAboutRiskyTokens() throws {
        let risky = Self.token(
            #"{"sub":"u","iat":0,"exp":172800,"password":"hunter2","profile":{"ssn":"078-05-1120"},"card":"4111 1111 1111 1111"}"#,
            header: #"{"alg":"none","jku":"https://evil.example/keys"}"#)
        let codes = try TokenInspection.inspect(risky, now: 10).warnings.map(\.code)
        for expected in ["alg_none", "no_jti", "long_lifetime", "header_jku", "secret_claim", "personal_data_claim", "card_number_claim"] {
            #expect(codes.contains(expected), "missing \(expected) in \(codes)")
        }
        let noExp = try TokenInspection.inspect(Self.token(#"{"jti":"1"}"#), now: 0)
        #expect(noExp.status == .noExpiry)
        #expect(noExp.warnings.map(\.code) == ["no_exp"])
    }

    @Test func malformedTimesAreWarnedNotShownAsDates() throws {
        let inspection = try TokenInspection.inspect(Self.token(#"{"exp":"tomorrow","jti":"1"}"#), now: 0)
        #expect(inspection.times.isEmpty)
        #expect(inspection.warnings.map(\.code).contains("malformed_exp"))
    }

    @Test(arguments: ["  X  ", "Bearer X", "bearer   X\n", "Authorization: Bearer X", "authorization:bearer X"])
    func bearerInputIsTolerant(input: String) {
        #expect(BearerInput.token(from: input) == "X")
    }
}
