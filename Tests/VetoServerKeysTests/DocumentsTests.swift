import Foundation
import NIOCore
import Testing
import VetoCore
import VetoCrypto
import Yams

@testable import VetoServer

/// The documents compiled into the binary (Sources/VetoServer/Documents): `/openapi.json` is the
/// YAML contract as JSON, and the decoder page's policy admits each of its inline scripts and styles.
@Suite struct DocumentsTests {
    @Test func servedOpenAPIJSONParsesAndEqualsTheYAMLDocument() throws {
        let served = String(buffer: DocumentRoutes.openAPI)
        _ = try JSONSerialization.jsonObject(with: Data(served.utf8))  // any JSON parser takes it
        // Compared by value: Veto's JSON reader (it keeps true apart from 1, which Foundation's boxing
        // does not) against Yams' own construction of the YAML, anchors and merge keys resolved.
        let json = try JSONReader(maxDepth: 64).parseObject(Array(served.utf8))
        let yaml = try #require(try Yams.load(yaml: EmbeddedDocuments.openAPIYAML))
        let difference = try Plain(.object(json)).firstDifference(from: Plain(yaml))
        #expect(difference == nil)
        #expect(served.hasPrefix("{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\n"))
    }

    @Test func servedOpenAPIJSONKeepsTheYAMLKeyOrder() throws {
        let document = try JSONReader(maxDepth: 64).parseObject(Array(String(buffer: DocumentRoutes.openAPI).utf8))
        // The top-level keys are the YAML's unindented `key:` lines.
        let yamlKeys = EmbeddedDocuments.openAPIYAML.split(separator: "\n").compactMap { line -> String? in
            guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        }
        #expect(document.members.map(\.name) == yamlKeys)
        guard case let .object(paths)? = document["paths"] else {
            Issue.record("no paths object")
            return
        }
        let yamlPaths = EmbeddedDocuments.openAPIYAML.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("  /") && line.hasSuffix(":") ? String(line.dropFirst(2).dropLast()) : nil
        }
        #expect(paths.members.map(\.name) == yamlPaths)
    }

    @Test func mergeKeysAndScalarsAreWrittenLikePyYAMLAndJSONDumps() throws {
        let yaml = """
            base: &base { a: 1, b: [x, "2"], c: { d: null } }
            merged: { <<: *base, b: yes, e: 1.5, "f\\t\\"g": "é\\u0001" }
            empty: [{}, []]
            200: ~
            """
        #expect(
            try YAMLAsJSON.render(yaml: yaml) == """
                {
                  "base": {
                    "a": 1,
                    "b": [
                      "x",
                      "2"
                    ],
                    "c": {
                      "d": null
                    }
                  },
                  "merged": {
                    "a": 1,
                    "b": true,
                    "c": {
                      "d": null
                    },
                    "e": 1.5,
                    "f\\t\\"g": "é\\u0001"
                  },
                  "empty": [
                    {},
                    []
                  ],
                  "200": null
                }
                """)
        #expect(throws: YAMLAsJSON.UnsupportedYAML.self) { try YAMLAsJSON.render(yaml: "when: 2024-04-06") }
        #expect(throws: YAMLAsJSON.UnsupportedYAML.self) { try YAMLAsJSON.render(yaml: "x: .inf") }
    }

    @Test func everyInlineScriptAndStyleOfTheDecoderPageHasItsHashInThePolicy() throws {
        let page = String(buffer: DocumentRoutes.decoder)
        let policy = DocumentRoutes.decoderContentSecurityPolicy
        let directives = Dictionary(
            uniqueKeysWithValues: policy.split(separator: ";").map { directive in
                let words = directive.split(separator: " ")
                return (String(words[0]), Set(words.dropFirst().map(String.init)))
            })
        #expect(directives["default-src"] == ["'none'"])
        #expect(directives["connect-src"] == ["'none'"])
        for tag in ["script", "style"] {
            // Every element that opens with `<tag`, attributes or not, up to its closing tag.
            let elements = try Regex("<\(tag)(?:\\s[^>]*)?>(.*?)</\(tag)>").dotMatchesNewlines().ignoresCase()
            let contents = page.matches(of: elements).map { String($0.output[1].substring!) }
            #expect(contents.count == page.lowercased().components(separatedBy: "<\(tag)").count - 1, "an unclosed <\(tag)>")
            #expect(!contents.isEmpty)
            for content in contents {
                let source = "'sha256-\(Data(Digest.sha256(Array(content.utf8))).base64EncodedString())'"
                #expect(
                    directives["\(tag)-src"]?.contains(source) == true,
                    "the <\(tag)> at offset \(page.range(of: content).map { page.distance(from: page.startIndex, to: $0.lowerBound) } ?? -1) is not in \(tag)-src"
                )
            }
            #expect(directives["\(tag)-src"]?.count == contents.count)
        }
    }

    @Test func policyHashesFindEveryElementOfTheTag() {
        let page = "<style>a</style><scripts>no</scripts><script type=\"module\">b</script><script>c</script>"
        #expect(DecoderPagePolicy.inlineContents(of: "script", in: page) == ["b", "c"])
        #expect(DecoderPagePolicy.inlineContents(of: "style", in: page) == ["a"])
        #expect(DecoderPagePolicy.hashSources(of: "style", in: "<p>no style</p>") == "'none'")
        // `printf '%s' a | openssl dgst -sha256 -binary | base64`
        #expect(DecoderPagePolicy.hashSources(of: "style", in: page) == "'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='")
    }
}

/// A JSON value (Veto's reader) or a YAML value (Yams) as one comparable type.
private indirect enum Plain: Equatable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([Plain]), object([String: Plain])

    struct Unexpected: Error {
        let value: String
    }

    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case let .bool(bool): self = .bool(bool)
        case let .number(number):
            self = number.isInteger ? Int(number.text).map(Plain.int) ?? .double(number.doubleValue) : .double(number.doubleValue)
        case let .string(string): self = .string(string)
        case let .array(array): self = .array(array.map(Plain.init))
        case let .object(object):
            self = .object(Dictionary(uniqueKeysWithValues: object.members.map { ($0.name, Plain($0.value)) }))
        }
    }

    /// What `Yams.load` builds: NSNull, String, Bool, Int, Double, [Any] and [AnyHashable: Any].
    init(_ yaml: Any) throws {
        switch yaml {
        case is NSNull: self = .null
        case let string as String: self = .string(string)
        case let bool as Bool: self = .bool(bool)
        case let int as Int: self = .int(int)
        case let double as Double: self = .double(double)
        case let array as [Any]: self = .array(try array.map { try Plain($0) })
        case let object as [AnyHashable: Any]:
            self = .object(Dictionary(uniqueKeysWithValues: try object.map { ("\($0.key.base)", try Plain($0.value)) }))
        default: throw Unexpected(value: "\(type(of: yaml)): \(yaml)")
        }
    }

    /// Where the two differ first, as a JSON pointer with both values; nil when equal.
    func firstDifference(from other: Plain, at pointer: String = "") -> String? {
        switch (self, other) {
        case let (.array(left), .array(right)) where left.count == right.count:
            return zip(left, right).enumerated().lazy.compactMap { $1.0.firstDifference(from: $1.1, at: "\(pointer)/\($0)") }.first
        case let (.object(left), .object(right)) where Set(left.keys) == Set(right.keys):
            return left.keys.sorted().lazy.compactMap { left[$0]!.firstDifference(from: right[$0]!, at: "\(pointer)/\($0)") }.first
        default:
            return self == other ? nil : "\(pointer): \(self) != \(other)"
        }
    }
}
