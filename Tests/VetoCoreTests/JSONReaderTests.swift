import Testing
import VetoCore

@Suite struct JSONReaderTests {
    func parse(_ text: String) throws(JSONError) -> JSONValue { try JSONReader().parse(Array(text.utf8)) }

    @Test func keepsMemberOrderAndNumberText() throws {
        let object = try #require(try parse(#"{"z":1,"a":1712400000,"m":1.50,"n":null}"#).objectValue)
        #expect(object.names == ["z", "a", "m", "n"])
        #expect(object["a"]?.numberValue?.text == "1712400000")
        #expect(object["m"]?.numberValue?.doubleValue == 1.5)
        #expect(JSONWriter.compact(.object(object)) == #"{"z":1,"a":1712400000,"m":1.50,"n":null}"#)
    }

    @Test func rejectsDuplicateMemberNames() {
        #expect(throws: JSONError(.duplicateMember("alg"), at: 16)) { try parse(#"{"alg":"RS256", "alg":"none"}"#) }
        // Escaped spelling of the same name is still a duplicate.
        #expect(throws: JSONError.self) { try parse(#"{"alg":"RS256","\u0061lg":"none"}"#) }
    }

    @Test func boundsDepth() throws {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONError(.tooDeep(limit: 32), at: 32)) { try parse(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        _ = try parse(fine)
    }

    @Test(arguments: [
        #"{"a":1,}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#, #"{'a':1}"#, #"{"a":1} x"#,
        #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00\ud800"}"#, "{\"a\":\"\u{01}\"}", #"{"a":tru}"#, #"{"a":NaN}"#,
        #"{"a":Infinity}"#, "", "   "
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONError.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: JSONError(.invalidUTF8, at: 6)) { try JSONReader().parse(bytes) }
        let overlong: [UInt8] = Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        #expect(throws: JSONError.self) { try JSONReader().parse(overlong) }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#"{"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}"#)
        #expect(value.objectValue?["s"]?.stringValue == "a\"b\\c/d\né😀")
    }

    @Test func hugeNumbersBecomeInfiniteNotWrapped() throws {
        let value = try parse(#"{"exp":1e400}"#)
        #expect(value.objectValue?["exp"]?.numberValue?.doubleValue == .infinity)
    }

    @Test func writerEscapesControlCharacters() {
        #expect(JSONWriter.quoted("a\u{01}\"\n") == #""a\u0001\"\n""#)
    }

    @Test func numbersReadAsTheDecimalParserReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "0", "-0", "1", "-1", "999999999999999", "-999999999999999", "1000000000000000", "9007199254740993",
            "1712400000", "1712400000.5", "1e3", "-2E-2", "0.1", "123456789012345678901234567890"
        ]
        for _ in 0..<2000 {
            let digits = Int.random(in: 1...17, using: &generator)
            var text = Bool.random(using: &generator) ? "-" : ""
            text += String(Int.random(in: 1...9, using: &generator))
            for _ in 1..<digits { text += String(Int.random(in: 0...9, using: &generator)) }
            texts.append(text)
        }
        for text in texts {
            let value = try JSONReader().parse(Array(text.utf8))
            #expect(value.numberValue?.doubleValue.bitPattern == Double(text)!.bitPattern, "\(text)")
            #expect(value.numberValue?.text == text)
        }
    }
}
