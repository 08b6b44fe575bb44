import Testing
import VetoCore
import VetoCrypto

/// RFC 7515 Appendix A: each example verifies with the key from its JWK, and tampering fails.
@Suite struct RFC7515Tests {
    @Test(arguments: [("A.1", JWSAlgorithm.hs256), ("A.2", .rs256), ("A.3", .es256), ("A.4", .es512)])
    func appendixExampleVerifies(name: String, algorithm: JWSAlgorithm) throws {
        let token = try Vectors.text("rfc7515/\(name).jwsc").trimmingSuffixNewlines
        let jwk = try Vectors.bytes("rfc7515/\(name).jwk")
        // The A.1 and A.2 JWKs have no alg; A.3 and A.4 are decided by their curve.
        let pin: JWSAlgorithm? = (algorithm.family == .ecdsa) ? nil : algorithm
        let keys = try KeyLoader.verificationKeys(from: jwk, source: "\(name).jwk", algorithm: pin).keys
        #expect(keys.map(\.algorithm) == [algorithm])

        let outcome = TokenCheck.run(token: token, keys: keys)
        #expect(outcome.isAccepted, "\(name): \(outcome)")
        for segment in [1, 2] {
            let tampered = TokenCheck.run(token: TokenCheck.tamper(token, segment: segment), keys: keys)
            #expect(!tampered.isAccepted, "\(name) with segment \(segment) changed: \(tampered)")
        }
    }

    @Test func appendixA5UnsecuredIsRejected() throws {
        let token = try Vectors.text("rfc7515/A.5.jwsc").trimmingSuffixNewlines
        // Whatever key is configured, alg "none" never verifies.
        for name in ["A.1", "A.2", "A.3"] {
            let jwk = try Vectors.bytes("rfc7515/\(name).jwk")
            let outcome = TokenCheck.run(token: token, keyFile: jwk, algorithm: name == "A.1" ? .hs256 : (name == "A.2" ? .rs256 : nil))
            #expect(!outcome.isAccepted, "A.5 against \(name): \(outcome)")
        }
    }
}

extension String {
    /// Vector files may end with a newline that is not part of the token.
    var trimmingSuffixNewlines: String {
        var text = self
        while text.last == "\n" || text.last == "\r" || text.last == "\r\n" { text.removeLast() }
        return text
    }
}
