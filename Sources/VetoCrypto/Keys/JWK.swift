internal import COpenSSL
import VetoCore

/// One JSON Web Key (RFC 7517), with typed access to its members. Members Veto does not use
/// (`x5c`, `x5t`, …) are ignored; a certificate chain in a JWK never changes which key verifies.
struct JWK {
    let object: JSONObject
    let source: String
    let keyType: String
    let keyID: String?

    init(_ object: JSONObject, source: String) throws(KeyLoadingError) {
        self.object = object
        self.source = source
        guard let kty = object["kty"] else {
            throw KeyLoadingError(.malformedKey, source: source, "the JWK has no \"kty\" member")
        }
        guard let keyType = kty.stringValue else {
            throw KeyLoadingError(.malformedKey, source: source, "\"kty\" is \(kty.typeDescription), not a string")
        }
        self.keyType = keyType
        if let kid = object["kid"] {
            guard let keyID = kid.stringValue else {
                throw KeyLoadingError(.malformedKey, source: source, "\"kid\" is \(kid.typeDescription), not a string")
            }
            self.keyID = keyID
        } else {
            self.keyID = nil
        }
    }

    /// True for `oct` keys and any key with a private member: material that must never be published.
    var holdsSecret: Bool { Self.holdsSecret(object) }

    /// The same for a JWK object that may not even load as a key (a JWKS is judged by every entry).
    static func holdsSecret(_ object: JSONObject) -> Bool {
        object["kty"]?.stringValue == "oct" || object["d"] != nil
    }

    /// Refuses `use` other than `sig` and `key_ops` without the needed operation (RFC 7517 §4.2, §4.3).
    func checkUse(for purpose: KeyPurpose) throws(KeyLoadingError) {
        if let use = object["use"] {
            guard let value = use.stringValue else {
                throw KeyLoadingError(.malformedKey, source: source, "\"use\" is \(use.typeDescription), not a string")
            }
            guard value == "sig" else {
                throw KeyLoadingError(
                    .wrongUse, source: source,
                    "the JWK has \"use\": \(JSONWriter.quoted(value)); a signature key must have \"use\": \"sig\"")
            }
        }
        if let keyOps = object["key_ops"] {
            guard let values = keyOps.arrayValue, values.allSatisfy({ $0.stringValue != nil }) else {
                throw KeyLoadingError(.malformedKey, source: source, "\"key_ops\" must be an array of strings")
            }
            let operations = values.compactMap(\.stringValue)
            guard operations.contains(purpose.keyOperation) else {
                throw KeyLoadingError(
                    .wrongUse, source: source,
                    "the JWK has \"key_ops\": \(JSONWriter.compact(keyOps)), which does not include \"\(purpose.keyOperation)\"")
            }
        }
    }

    /// The `alg` member as a JWS algorithm; refuses `none` and anything Veto does not verify.
    func declaredAlgorithm() throws(KeyLoadingError) -> JWSAlgorithm? {
        guard let alg = object["alg"] else { return nil }
        guard let name = alg.stringValue else {
            throw KeyLoadingError(.malformedKey, source: source, "\"alg\" is \(alg.typeDescription), not a string")
        }
        if name.lowercased() == "none" {
            throw KeyLoadingError(
                .unsupportedAlgorithm, source: source, "the JWK has \"alg\": \(JSONWriter.quoted(name)); unsecured JWS is never accepted")
        }
        guard let algorithm = JWSAlgorithm(rawValue: name) else {
            let supported = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
            throw KeyLoadingError(
                .unsupportedAlgorithm, source: source,
                "the JWK has \"alg\": \(JSONWriter.quoted(name)), which is not a supported JWS algorithm (\(supported))")
        }
        return algorithm
    }

    /// A string member, type-checked.
    func string(_ name: String) throws(KeyLoadingError) -> String? {
        guard let value = object[name] else { return nil }
        guard let string = value.stringValue else {
            throw KeyLoadingError(.malformedKey, source: source, "\"\(name)\" is \(value.typeDescription), not a string")
        }
        return string
    }

    /// A base64url member (RFC 7518 §2 Base64urlUInt or octets), strictly decoded.
    func bytes(_ name: String) throws(KeyLoadingError) -> [UInt8]? {
        guard let string = try string(name) else { return nil }
        do {
            return try Base64URL.decode(string)
        } catch {
            throw KeyLoadingError(.malformedKey, source: source, "\"\(name)\" is not valid base64url: \(error)")
        }
    }

    func requiredBytes(_ name: String) throws(KeyLoadingError) -> [UInt8] {
        guard let bytes = try bytes(name) else {
            throw KeyLoadingError(.malformedKey, source: source, "the \(keyType) JWK has no \"\(name)\" member")
        }
        return bytes
    }
}
