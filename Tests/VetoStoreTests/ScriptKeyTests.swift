import Foundation
import Testing
import VetoRedis

@testable import VetoStore

/// Redis Cluster runs a script on the node of its declared keys and refuses keys of other slots: each
/// script must touch its one entry key, KEYS[1], and nothing else but the feed, KEYS[2], which is given
/// only outside a cluster (and only XADD touches it, behind `if KEYS[2]`).
@Suite struct ScriptKeyTests {
    static let scripts = [
        "revokeToken": RedisBlocklist.revokeTokenScript, "revokeSubject": RedisBlocklist.cutoffScript,
        "remove": RedisBlocklist.removeScript
    ]

    @Test(arguments: ["revokeToken", "revokeSubject", "remove"])
    func scriptTouchesOnlyItsOneDeclaredKey(_ name: String) throws {
        let source = try #require(Self.scripts[name]).source
        var keyReferences: [Substring] = []
        var rest = Substring(source)
        while let range = rest.firstRange(of: "KEYS[") {
            let tail = rest[range.upperBound...]
            let close = tail.firstIndex(of: "]") ?? tail.endIndex
            keyReferences.append(tail[..<close])
            rest = tail
        }
        #expect(!keyReferences.isEmpty, "\(name) declares no key")
        #expect(keyReferences.allSatisfy { $0 == "1" || $0 == "2" }, "\(name) uses KEYS[\(keyReferences)]")
        #expect(source.contains("if KEYS[2] and") || source.contains("and KEYS[2] and"), "\(name) touches the feed without checking it was given")
        // Every redis.call names KEYS[1] as its key: no key is built from ARGV or a literal.
        rest = Substring(source)
        var calls = 0
        while let range = rest.firstRange(of: "redis.call(") {
            let tail = rest[range.upperBound...]
            let close = tail.firstIndex(of: ")") ?? tail.endIndex
            let arguments = tail[..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let feedWrite = ["'XADD'", "'TYPE'"].contains(arguments.first) && arguments.count >= 2 && arguments[1] == "KEYS[2]"
            #expect(arguments.count >= 2 && (arguments[1] == "KEYS[1]" || feedWrite), "\(name): redis.call(\(tail[..<close]))")
            calls += 1
            rest = tail
        }
        #expect(calls > 0)
    }
}
