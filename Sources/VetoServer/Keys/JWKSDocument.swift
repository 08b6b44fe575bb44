import VetoCore
import VetoCrypto

/// Turns a fetched JWKS into verification keys.
enum JWKSDocument {
    struct Loaded: Sendable {
        let keys: [VerificationKey]
        /// Why entries were skipped, for the log.
        let skipped: [String]
    }

    /// The keys of a JWKS. A well-formed JWKS with no usable key yields no keys rather than an
    /// error: the document is the issuer's word on which keys are valid, and an emptied set must
    /// drop the old keys, not keep them.
    ///
    /// - Throws: `.malformedDocument` unless the body is a JSON object with a `keys` array (so a
    ///   PEM or HTML body can never be read as a key), `.unsafeKeySet` for secret or ambiguous keys.
    static func load(
        _ body: [UInt8], url: HTTPURL, defaultAlgorithm: JWSAlgorithm?,
        allowedAlgorithms: [JWSAlgorithm] = []
    ) throws(JWKSFetchError) -> Loaded {
        let object: JSONObject
        do {
            object = try JSONReader().parseObject(body)
        } catch {
            throw JWKSFetchError(.malformedDocument, url: url.redacted, "the JWKS is not a JSON object: \(error)")
        }
        guard let entries = object["keys"]?.arrayValue else {
            throw JWKSFetchError(.malformedDocument, url: url.redacted, "the JWKS has no \"keys\" array")
        }
        // A secret or private key in a published document is known to everyone who can read it, so it
        // signs for anyone: the whole document is refused, whether or not that entry would load.
        if let secret = entries.first(where: { $0.objectValue.map(KeyLoader.jwkHoldsSecret) == true })?.objectValue {
            throw JWKSFetchError(
                .unsafeKeySet, url: url.redacted,
                secret["kty"]?.stringValue == "oct"
                    ? "the JWKS publishes HMAC secrets (kty \"oct\"); they cannot verify anything once public"
                    : "the JWKS publishes private key material (a \"d\" member); a private key in a public document signs for anyone")
        }
        let load: KeySetLoad
        do {
            load = try KeyLoader.verificationKeys(from: body, source: url.redacted, algorithm: defaultAlgorithm)
        } catch  where error.code == .noUsableKey {
            return Loaded(keys: [], skipped: [error.message])
        } catch  where error.code == .malformedKey {
            throw JWKSFetchError(.malformedDocument, url: url.redacted, error.message)
        } catch {
            throw JWKSFetchError(.unsafeKeySet, url: url.redacted, error.message)
        }
        // The issuer's allow-list binds every key from every source: a key whose algorithm (declared,
        // or inferred from an EC curve or OKP type) is outside it never verifies anything.
        var keys = load.keys
        var skipped = load.skipped.map(\.description)
        if !allowedAlgorithms.isEmpty {
            keys = load.keys.filter { key in
                guard allowedAlgorithms.contains(key.algorithm) else {
                    skipped.append(
                        "\(key.label): \(key.algorithm) is not in the issuer's algorithms (\(allowedAlgorithms.map(\.rawValue).joined(separator: ", ")))"
                    )
                    return false
                }
                return true
            }
        }
        return Loaded(keys: keys, skipped: skipped)
    }
}
