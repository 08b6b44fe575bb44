/// The protected header of a compact JWS, with the members Veto looks at pulled out.
/// The rest stays in `object`, in its original order, for display.
///
/// `jku`, `x5u`, `jwk` and `x5c` are never used to find a key: a token cannot vouch for itself.
package struct JOSEHeader: Sendable, Equatable {
    package let object: JSONObject
    /// The `alg` member exactly as written (it may name an algorithm Veto does not support, or `none`).
    package let algorithmName: String
    package let keyID: String?
    package let type: String?
    package let contentType: String?

    /// Header parameters whose meaning Veto understands, so a `crit` may list them.
    /// None of the registered extensions (`b64`, …) is implemented, so `crit` is always refused.
    static let understoodCritical: Set<String> = []

    init(object: JSONObject) throws(ValidationFailure) {
        self.object = object
        guard let alg = object["alg"] else {
            throw ValidationFailure(
                .malformedToken, .structure, "The header has no \"alg\" member.",
                hint: "Every JWS header names its algorithm; this is not a signed JWT.")
        }
        guard let name = alg.stringValue else {
            throw ValidationFailure(.malformedToken, .structure, "The header's \"alg\" is \(alg.typeDescription), not a string.")
        }
        self.algorithmName = name
        self.algorithm = JWSAlgorithm.allCases.first { $0.rawValue.hasSameBytes(as: name) }
        self.keyID = try Self.optionalString("kid", in: object)
        self.type = try Self.optionalString("typ", in: object)
        self.contentType = try Self.optionalString("cty", in: object)
        if let crit = object["crit"] {
            guard let names = crit.arrayValue, !names.isEmpty, names.allSatisfy({ $0.stringValue != nil }) else {
                throw ValidationFailure(
                    .malformedToken, .structure,
                    "The header's \"crit\" is \(crit.typeDescription); RFC 7515 requires a non-empty array of names.")
            }
            let unknown = names.compactMap(\.stringValue).filter { !Self.understoodCritical.containsExactly($0) }
            if !unknown.isEmpty {
                throw ValidationFailure(
                    .unsupportedCriticalHeader, .structure,
                    "The header marks \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) as critical (crit), and Veto does not implement \(unknown.count == 1 ? "it" : "them").",
                    hint: "RFC 7515 §4.1.11 requires refusing a token whose critical extensions are not understood; issue the token without crit.")
            }
        }
    }

    static func optionalString(_ name: String, in object: JSONObject) throws(ValidationFailure) -> String? {
        guard let value = object[name] else { return nil }
        guard let string = value.stringValue else {
            throw ValidationFailure(.malformedToken, .structure, "The header's \"\(name)\" is \(value.typeDescription), not a string.")
        }
        return string
    }

    /// The algorithm, if `alg` names one Veto verifies, compared by bytes like every identifier.
    /// `none` in any spelling is never one.
    package let algorithm: JWSAlgorithm?

    package var isUnsecured: Bool { algorithmName.lowercased() == "none" }
}
