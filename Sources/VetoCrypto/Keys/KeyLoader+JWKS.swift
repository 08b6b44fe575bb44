import VetoCore

extension KeyLoader {
    /// Loads a JWKS (RFC 7517 §5). Unusable entries are skipped with their reason; the whole set
    /// is refused when it is ambiguous or mixes secret and public keys.
    static func keySet(_ object: JSONObject, source: String, algorithm: JWSAlgorithm?) throws(KeyLoadingError) -> KeySetLoad {
        guard let entries = object["keys"]?.arrayValue else {
            throw KeyLoadingError(.malformedKey, source: source, "\"keys\" must be an array of JWKs")
        }
        let objects = entries.map(\.objectValue)

        // A set that holds HMAC secrets next to public keys is either a leaked secret or an
        // attempt to make a public key's holder verify with a secret; refuse it outright.
        let keyTypes = objects.compactMap { $0?["kty"]?.stringValue }
        if keyTypes.contains("oct"), keyTypes.contains(where: { $0 != "oct" }) {
            throw KeyLoadingError(
                .ambiguousKeySet, source: source,
                "the JWKS mixes secret (oct) keys with public keys; keep HMAC secrets and public keys in separate files")
        }

        try checkKeyIDsAreUnambiguous(objects, source: source)

        var keys: [VerificationKey] = []
        var skipped: [SkippedKey] = []
        for (index, entry) in objects.enumerated() {
            let keyID = entry?["kid"]?.stringValue
            let entrySource = "\(source)#\(keyID ?? "keys[\(index)]")"
            do throws(KeyLoadingError) {
                guard let entry else {
                    throw KeyLoadingError(.malformedKey, source: entrySource, "the entry is \(entries[index].typeDescription), not a JWK object")
                }
                let jwk = try JWK(entry, source: entrySource)
                keys.append(try verificationKey(jwk: jwk, algorithm: algorithm))
            } catch {
                skipped.append(SkippedKey(keyID: keyID, index: index, reason: error))
            }
        }

        guard !keys.isEmpty else {
            let reasons = skipped.map { $0.reason.description }.joined(separator: "; ")
            throw KeyLoadingError(
                .noUsableKey, source: source,
                skipped.isEmpty ? "the JWKS has no keys" : "the JWKS has no usable key: \(reasons)")
        }
        return KeySetLoad(keys: keys, skipped: skipped)
    }

    /// Two entries with one `kid` are allowed only when both name different algorithms (one key
    /// published for RS256 and PS256, say); otherwise a token's kid would not pick one key. This
    /// looks at every signature entry, usable or not: a set with such a clash is not a set to trust.
    private static func checkKeyIDsAreUnambiguous(_ entries: [JSONObject?], source: String) throws(KeyLoadingError) {
        var algorithmsByKeyID: [ExactString: [String?]] = [:]  // kids compare by bytes, as tokens' kids do
        for entry in entries {
            guard let entry, let keyID = entry["kid"]?.stringValue else { continue }
            // An encryption key can never be selected for a signature, so it cannot clash.
            if let use = entry["use"], use.stringValue != "sig" { continue }
            var name = entry["alg"]?.stringValue
            // EdDSA and Ed25519 name one algorithm and accept each other's tokens.
            if name == JWSAlgorithm.ed25519.rawValue { name = JWSAlgorithm.edDSA.rawValue }
            let earlier = algorithmsByKeyID[ExactString(keyID), default: []]
            if earlier.contains(where: { $0 == nil || name == nil || $0 == name }) {
                let which = name.map { "\($0) keys" } ?? "keys"
                throw KeyLoadingError(
                    .ambiguousKeySet, source: source,
                    "the JWKS has more than one of its \(which) with \"kid\": \(JSONWriter.quoted(keyID)); a kid must pick one key")
            }
            algorithmsByKeyID[ExactString(keyID)] = earlier + [name]
        }
    }
}

extension KeyLoader {
    /// Whether a JWK object holds material that must never be published: an `oct` secret or a private
    /// member (`d`). A JWKS fetched from a URL is refused whole when any entry does.
    package static func jwkHoldsSecret(_ object: JSONObject) -> Bool {
        JWK.holdsSecret(object)
    }
}
