import VetoCore
import VetoCrypto

/// Key files as an operator or a JWKS endpoint hands them over: JWK, JWKS, PEM or a raw secret.
/// The first byte picks the `ALG:` the file is pinned to (or none). Every key that loads must
/// be pinned to exactly the algorithm asked for, and an HMAC key may only come from a JWK that
/// says `"kty": "oct"` or from a raw file with no PEM armour in it (key confusion).
enum KeyFileHarness {
    static let algorithms: [JWSAlgorithm?] = [nil] + JWSAlgorithm.allCases.map { $0 }

    static func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let file = Array(bytes.dropFirst())
        let algorithm = algorithms[Int(selector) % algorithms.count]
        guard let load = try? KeyLoader.verificationKeys(from: file, source: "fuzz", algorithm: algorithm) else { return }
        if load.keys.isEmpty { violated("a key file loaded with no key") }
        let json = try? JSONReader().parseObject(file)
        let holdsPEM = file.contains(Array("-----BEGIN ".utf8))
        for key in load.keys {
            if let algorithm, !key.algorithm.accepts(algorithm) && !algorithm.accepts(key.algorithm) {
                violated("key pinned to \(key.algorithm) although \(algorithm) was asked for")
            }
            guard key.algorithm.family == .hmac else { continue }
            if let json {
                // JSON that parses is a JWK or JWKS, never a raw secret: the secret must be declared.
                if !declaresSecret(json) { violated("a JSON key file without \"kty\": \"oct\" became an HMAC secret") }
            } else if holdsPEM {
                violated("a PEM file became an HMAC secret")
            }
        }
    }

    /// A JWK with `"kty": "oct"`, or a JWKS with at least one.
    private static func declaresSecret(_ object: JSONObject) -> Bool {
        if object["kty"]?.stringValue == "oct" { return true }
        return object["keys"]?.arrayValue?.contains { $0.objectValue?["kty"]?.stringValue == "oct" } ?? false
    }
}
