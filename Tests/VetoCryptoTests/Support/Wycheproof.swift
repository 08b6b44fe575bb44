import VetoCore

/// One Wycheproof JWS or JWK test case, with the key (or key set) of its group.
struct WycheproofCase: Sendable, CustomStringConvertible {
    let tcId: Int
    let comment: String
    let jws: String
    let expectsValid: Bool
    let flags: [String]
    /// The group's `public` key, or its `private` one where there is no public key (oct keys).
    let key: JSONObject

    var description: String { "tcId \(tcId) \(comment)" }
}

/// A short generic loader for Wycheproof's `testGroups[].tests[]` files.
enum Wycheproof {
    static func cases(_ file: String) throws -> [WycheproofCase] {
        let document = try Vectors.object("wycheproof/\(file)")
        var cases: [WycheproofCase] = []
        for group in document["testGroups"]?.arrayValue ?? [] {
            guard let group = group.objectValue, let key = group.object("public") ?? group.object("private") else { continue }
            for test in group["tests"]?.arrayValue ?? [] {
                guard let test = test.objectValue,
                    let tcId = test["tcId"]?.numberValue.map({ Int($0.doubleValue) }),
                    let jws = test.string("jws"), let result = test.string("result")
                else { continue }
                cases.append(
                    WycheproofCase(
                        tcId: tcId, comment: test.string("comment") ?? "", jws: jws, expectsValid: result == "valid",
                        flags: (test["flags"]?.arrayValue ?? []).compactMap(\.stringValue), key: key))
            }
        }
        return cases
    }
}
