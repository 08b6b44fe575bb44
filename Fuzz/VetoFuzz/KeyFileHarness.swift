import VetoCore
import VetoCrypto

/// Key files as an operator or a JWKS endpoint hands them over: JWK, JWKS, PEM or a raw secret.
/// The first byte picks the `ALG:` the file is pinned to (or none). Every key that loads must
/// be pinned to exactly the algorithm asked for, and no HMAC key may come out of JSON or PEM.
enum KeyFileHarness {
    static let algorithms: [JWSAlgorithm?] = [nil] + JWSAlgorithm.allCases.map { $0 }

    static func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let file = Array(bytes.dropFirst())
        let algorithm = algorithms[Int(selector) % algorithms.count]
        guard let load = try? KeyLoader.verificationKeys(from: file, source: "fuzz", algorithm: algorithm) else { return }
        if load.keys.isEmpty { violated("a key file loaded with no key") }
        let marker = Array("-----BEGIN ".utf8)
        let isPEM = file.count >= marker.count && (0...(file.count - marker.count)).contains { file[$0..<$0 + marker.count].elementsEqual(marker) }
        for key in load.keys {
            if let algorithm, !key.algorithm.accepts(algorithm) && !algorithm.accepts(key.algorithm) {
                violated("key pinned to \(key.algorithm) although \(algorithm) was asked for")
            }
            // A JWK "oct" key is an HMAC key by design; a public key in PEM never is (key confusion).
            if isPEM, key.algorithm.family == .hmac { violated("a PEM file became an HMAC secret") }
        }
    }
}
