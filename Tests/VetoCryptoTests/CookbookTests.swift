import Testing
import VetoCore
import VetoCrypto

/// RFC 7520 §4.1–4.4 (keys from §3) and the RFC 8037 Ed25519 example.
@Suite struct CookbookTests {
    @Test(arguments: [
        ("jws/4_1.rsa_v15_signature.json", "jwk/3_3.rsa_public_key.json", JWSAlgorithm.rs256),
        ("jws/4_2.rsa-pss_signature.json", "jwk/3_3.rsa_public_key.json", .ps384),
        ("jws/4_3.ecdsa_signature.json", "jwk/3_1.ec_public_key.json", .es512),
        ("jws/4_4.hmac-sha2_integrity_protection.json", "jwk/3_5.symmetric_key_mac_computation.json", .hs256),
        ("curve25519/jws.json", "curve25519/jws.json#input.key", .edDSA)
    ])
    func exampleVerifies(example: String, keyFile: String, algorithm: JWSAlgorithm) throws {
        let document = try Vectors.object("jose-cookbook/\(example)")
        let token = try #require(document.object("output")?.string("compact"))
        let keyBytes: [UInt8]
        if keyFile.hasSuffix("#input.key") {
            keyBytes = try #require(document.object("input")?.object("key")).fileBytes
        } else {
            keyBytes = try Vectors.bytes("jose-cookbook/\(keyFile)")
        }
        // RSA and HMAC keys need the algorithm (the §3.3 key has no alg); EC and Ed25519 decide it.
        let pin: JWSAlgorithm? = [.rsaPKCS1, .rsaPSS, .hmac].contains(algorithm.family) ? algorithm : nil
        let keys = try KeyLoader.verificationKeys(from: keyBytes, source: keyFile, algorithm: pin).keys
        #expect(keys.map(\.algorithm) == [algorithm])

        #expect(TokenCheck.run(token: token, keys: keys).isAccepted, "\(example)")
        for segment in [1, 2] {
            let tampered = TokenCheck.run(token: TokenCheck.tamper(token, segment: segment), keys: keys)
            #expect(!tampered.isAccepted, "\(example) with segment \(segment) changed: \(tampered)")
        }
    }

    /// A private JWK used for verification contributes only its public part, and signs what its public part verifies.
    @Test(arguments: [("jwk/3_2.ec_private_key.json", JWSAlgorithm.es512), ("jwk/3_4.rsa_private_key.json", .rs256)])
    func privateJWKSignsAndVerifies(keyFile: String, algorithm: JWSAlgorithm) throws {
        let bytes = try Vectors.bytes("jose-cookbook/\(keyFile)")
        let pin: JWSAlgorithm? = algorithm.family == .ecdsa ? nil : algorithm
        let signer = try SigningKey.load(from: bytes, source: keyFile, algorithm: pin)
        let keys = try KeyLoader.verificationKeys(from: bytes, source: keyFile, algorithm: pin).keys
        let input = Array("eyJhbGciOiJ4In0.cGF5bG9hZA".utf8)
        let signature = try signer.sign(input)
        #expect(keys[0].verifier.verify(signature: signature, signingInput: input[...]))
        #expect(keys[0].keyID == "bilbo.baggins@hobbiton.example")
    }

    /// RFC 8037 §A.4: Ed25519 is deterministic, so signing the example input reproduces the example signature.
    @Test func ed25519SignatureIsReproduced() throws {
        let document = try Vectors.object("jose-cookbook/curve25519/jws.json")
        let key = try #require(document.object("input")?.object("key"))
        let signing = try #require(document.object("signing"))
        let signer = try SigningKey.load(from: key.fileBytes, source: "RFC 8037 A.4")
        let signature = try signer.sign(Array(try #require(signing.string("sig-input")).utf8))
        #expect(Base64URL.encode(signature) == signing.string("sig"))
    }
}
