import Testing
import VetoCore
import VetoCrypto

/// Generated keys sign, and their public forms (verifier, PEM, JWK) verify, for every algorithm.
@Suite struct SigningRoundTripTests {
    private let input = Array("eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiIxIn0".utf8)

    @Test(arguments: JWSAlgorithm.allCases)
    func signThenVerify(algorithm: JWSAlgorithm) throws {
        let signer = try SigningKey.generate(algorithm: algorithm, keyID: "kid-\(algorithm)")
        #expect(signer.algorithm == algorithm)
        let signature = try signer.sign(input)

        let expectedLength: Int =
            switch algorithm {
            case .es256: 64
            case .es384: 96
            case .es512: 132
            case .edDSA, .ed25519: 64
            case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: 256
            case .hs256: 32
            case .hs384: 48
            case .hs512: 64
            }
        #expect(signature.count == expectedLength)

        var verifiers = [try signer.verificationKey()]
        if algorithm.family == .hmac {
            verifiers += try KeyLoader.verificationKeys(from: try signer.privateJWK().fileBytes, source: "jwk").keys
        } else {
            verifiers += try KeyLoader.verificationKeys(from: try signer.publicJWK().fileBytes, source: "jwk").keys
            verifiers += try KeyLoader.verificationKeys(from: Array(try signer.publicKeyPEM().utf8), source: "pem", algorithm: algorithm).keys
            // The exported private forms load back as signing keys for the same algorithm.
            let fromPEM = try SigningKey.load(from: Array(try signer.privateKeyPEM().utf8), source: "private pem", algorithm: algorithm)
            let fromJWK = try SigningKey.load(from: try signer.privateJWK().fileBytes, source: "private jwk")
            #expect(fromJWK.keyID == "kid-\(algorithm)")
            for other in [fromPEM, fromJWK] {
                #expect(try signer.verificationKey().verifier.verify(signature: try other.sign(input), signingInput: input[...]))
            }
        }
        #expect(verifiers.count >= 2)

        var tamperedInput = input
        tamperedInput[tamperedInput.count - 1] ^= 0x01
        var tamperedSignature = signature
        tamperedSignature[tamperedSignature.count / 2] ^= 0x01
        for key in verifiers {
            #expect(key.algorithm == algorithm)
            #expect(key.verifier.verify(signature: signature, signingInput: input[...]), "\(key.label)")
            #expect(!key.verifier.verify(signature: signature, signingInput: tamperedInput[...]), "\(key.label)")
            #expect(!key.verifier.verify(signature: tamperedSignature, signingInput: input[...]), "\(key.label)")
            #expect(!key.verifier.verify(signature: signature + [0], signingInput: input[...]), "\(key.label)")
            #expect(!key.verifier.verify(signature: Array(signature.dropLast()), signingInput: input[...]), "\(key.label)")
            #expect(!key.verifier.verify(signature: [], signingInput: input[...]), "\(key.label)")
        }
    }

    @Test func publicJWKHasTheRFCShape() throws {
        let signer = try SigningKey.generate(algorithm: .es512, keyID: "k1")
        let jwk = try signer.publicJWK()
        #expect(jwk.names == ["kty", "crv", "x", "y", "alg", "use", "kid"])
        #expect(try Base64URL.decode(try #require(jwk.string("x"))).count == 66)
        #expect(try signer.publicJWK(kid: "other").string("kid") == "other")
        #expect(try signer.privateJWK()["d"] != nil)
        #expect(try signer.publicKeyPEM().hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try signer.privateKeyPEM().hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func hmacKeyHasNoPublicForm() throws {
        let signer = try SigningKey.generate(algorithm: .hs256)
        #expect(throws: KeyLoadingError.self) { try signer.publicKeyPEM() }
        #expect(throws: KeyLoadingError.self) { try signer.publicJWK() }
        #expect(try Base64URL.decode(try #require(signer.privateJWK().string("k"))).count == 32)
    }

    @Test func keyFromOneAlgorithmDoesNotVerifyAnother() throws {
        let rs = try SigningKey.generate(algorithm: .rs256)
        let signature = try rs.sign(input)
        let pemBytes = Array(try rs.publicKeyPEM().utf8)
        let asPSS = try KeyLoader.verificationKeys(from: pemBytes, source: "pem", algorithm: .ps256).keys[0]
        #expect(!asPSS.verifier.verify(signature: signature, signingInput: input[...]))
        let asRS384 = try KeyLoader.verificationKeys(from: pemBytes, source: "pem", algorithm: .rs384).keys[0]
        #expect(!asRS384.verifier.verify(signature: signature, signingInput: input[...]))
    }
}
