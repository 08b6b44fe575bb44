import Foundation
import Testing
import VetoRedis

@testable import VetoStore

/// Redis Cluster runs a script on the node of its declared keys and refuses keys of other slots: each
/// script must declare exactly one key and touch nothing else.
@Suite struct ScriptKeyTests {
    @Test(arguments: ["revokeToken", "revokeSubject"])
    func scriptTouchesOnlyItsOneDeclaredKey(_ name: String) {
        let source = (name == "revokeToken" ? RedisBlocklist.revokeTokenScript : RedisBlocklist.revokeSubjectScript).source
        var keyReferences: [Substring] = []
        var rest = Substring(source)
        while let range = rest.firstRange(of: "KEYS[") {
            let tail = rest[range.upperBound...]
            let close = tail.firstIndex(of: "]") ?? tail.endIndex
            keyReferences.append(tail[..<close])
            rest = tail
        }
        #expect(!keyReferences.isEmpty, "\(name) declares no key")
        #expect(keyReferences.allSatisfy { $0 == "1" }, "\(name) uses KEYS[\(keyReferences)]")
        // Every redis.call names KEYS[1] as its key: no key is built from ARGV or a literal.
        rest = Substring(source)
        var calls = 0
        while let range = rest.firstRange(of: "redis.call(") {
            let tail = rest[range.upperBound...]
            let close = tail.firstIndex(of: ")") ?? tail.endIndex
            let arguments = tail[..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(arguments.count >= 2 && arguments[1] == "KEYS[1]", "\(name): redis.call(\(tail[..<close]))")
            calls += 1
            rest = tail
        }
        #expect(calls > 0)
    }
}
