import Testing
import VetoCore

@Suite struct Base64URLTests {
    @Test func roundTripsEveryLength() throws {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(try Base64URL.decode(encoded) == bytes)
        }
    }

    @Test(arguments: [
        ("eyJhbGciOiJIUzI1NiJ9=", "padding"),
        ("ab+c", "standard alphabet +"),
        ("ab/c", "standard alphabet /"),
        ("ab c", "whitespace"),
        ("ab\nc", "newline"),
        ("abcde", "length 4k+1"),
        ("QR", "non-zero trailing bits"),
        ("QUJ", "non-zero trailing bits (2)")
    ])
    func rejectsNonCanonicalInput(input: String, why: String) {
        #expect(throws: Base64URL.DecodingError.self, "\(why)") { try Base64URL.decode(input) }
    }

    @Test func acceptsCanonicalTrailingBits() throws {
        #expect(try Base64URL.decode("QQ") == [0x41])
        #expect(try Base64URL.decode("QUI") == [0x41, 0x42])
    }

    @Test func errorNamesTheOffendingCharacter() {
        do {
            _ = try Base64URL.decode("abc=")
            Issue.record("padding accepted")
        } catch {
            #expect(error.description.contains("padding"))
            #expect(error.description.contains("offset 3"))
        }
    }
}
