import Foundation
import Testing
import VetoCore
import VetoCrypto

/// Each supported file format loads, and verifies what the matching private key signs.
@Suite struct KeyFormatTests {
    private let input = Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2ZXRvIn0".utf8)

    private func verifies(_ fixture: String, algorithm: JWSAlgorithm?, signature: [UInt8]) throws -> Bool {
        let keys = try KeyLoader.verificationKeys(from: try Vectors.bytes("Fixtures/\(fixture)"), source: fixture, algorithm: algorithm).keys
        #expect(keys.count == 1)
        return keys[0].verifier.verify(signature: signature, signingInput: input[...])
    }

    @Test(arguments: [JWSAlgorithm.rs256, .rs384, .rs512, .ps256, .ps384, .ps512])
    func rsaPEMFormats(algorithm: JWSAlgorithm) throws {
        let pkcs8 = try SigningKey.load(from: try Vectors.bytes("Fixtures/rsa-2048-private.pem"), source: "pkcs8", algorithm: algorithm)
        let pkcs1 = try SigningKey.load(from: try Vectors.bytes("Fixtures/rsa-2048-pkcs1-private.pem"), source: "pkcs1", algorithm: algorithm)
        for signer in [pkcs8, pkcs1] {
            let signature = try signer.sign(input)
            #expect(signature.count == 256)
            #expect(try verifies("rsa-2048-public.pem", algorithm: algorithm, signature: signature))
            #expect(try verifies("rsa-2048-pkcs1-public.pem", algorithm: algorithm, signature: signature))
        }
    }

    @Test func ecPrivateKeyAndCertificateDecideES256() throws {
        let signer = try SigningKey.load(from: try Vectors.bytes("Fixtures/ec-p256-sec1-private.pem"), source: "sec1")
        #expect(signer.algorithm == .es256)
        let signature = try signer.sign(input)
        #expect(try verifies("ec-p256-certificate.pem", algorithm: nil, signature: signature))
        #expect(try verifies("ec-p256-sec1-private.pem", algorithm: .es256, signature: signature))
    }

    @Test func ed25519PEMUnderBothNames() throws {
        let signer = try SigningKey.load(from: try Vectors.bytes("Fixtures/ed25519-private.pem"), source: "ed25519")
        #expect(signer.algorithm == .edDSA)
        let signature = try signer.sign(input)
        #expect(signature.count == 64)
        #expect(try verifies("ed25519-public.pem", algorithm: nil, signature: signature))
        #expect(try verifies("ed25519-public.pem", algorithm: .ed25519, signature: signature))
    }

    @Test func certificateChainUsesOnlyTheLeafKey() throws {
        let chain = try Vectors.bytes("Fixtures/leaf-and-ca-chain.pem")
        let keys = try KeyLoader.verificationKeys(from: chain, source: "chain.pem").keys
        #expect(keys.count == 1)
        let leaf = try SigningKey.load(from: try Vectors.bytes("Fixtures/leaf-p256-private.pem"), source: "leaf")
        let ca = try SigningKey.load(from: try Vectors.bytes("Fixtures/ca-p256-private.pem"), source: "ca")
        #expect(keys[0].verifier.verify(signature: try leaf.sign(input), signingInput: input[...]))
        #expect(!keys[0].verifier.verify(signature: try ca.sign(input), signingInput: input[...]))
    }

    @Test func pemWithCRLFLineEndingsLoads() throws {
        let text = try Vectors.text("Fixtures/rsa-2048-public.pem").replacingOccurrences(of: "\n", with: "\r\n")
        let keys = try KeyLoader.verificationKeys(from: Array(text.utf8), source: "crlf.pem", algorithm: .rs256).keys
        #expect(keys.map(\.summary) == ["RSA 2048-bit"])
    }

    @Test func publicPEMCannotSign() throws {
        #expect(throws: KeyLoadingError(.notAPrivateKey, source: "", "")) {
            try SigningKey.load(from: try Vectors.bytes("Fixtures/rsa-2048-public.pem"), source: "public", algorithm: .rs256)
        }
        #expect(throws: KeyLoadingError(.notAPrivateKey, source: "", "")) {
            try SigningKey.load(from: try Vectors.bytes("jose-cookbook/jwk/3_1.ec_public_key.json"), source: "public")
        }
    }

    @Test func rawSecretIsUsedExactlyAsStored() throws {
        let secret = Array("0123456789abcdef0123456789abcdef\n".utf8)
        let key = try KeyLoader.verificationKeys(from: secret, source: "secret.txt", algorithm: .hs256).keys[0]
        #expect(key.summary == "HMAC 33-byte secret, ending in a newline")
        let withNewline = try SigningKey.load(from: secret, source: "secret.txt", algorithm: .hs256)
        let withoutNewline = try SigningKey.load(from: Array(secret.dropLast()), source: "secret.txt", algorithm: .hs256)
        #expect(key.verifier.verify(signature: try withNewline.sign(input), signingInput: input[...]))
        #expect(!key.verifier.verify(signature: try withoutNewline.sign(input), signingInput: input[...]))
    }

    @Test func binarySecretStartingWithABraceIsASecret() throws {
        // Not UTF-8, so not JSON text: a random secret that happens to begin with '{'.
        let secret: [UInt8] = [UInt8(ascii: "{")] + [UInt8](repeating: 0xFF, count: 31)
        let keys = try KeyLoader.verificationKeys(from: secret, source: "secret.bin", algorithm: .hs256).keys
        #expect(keys.map(\.summary) == ["HMAC 32-byte secret"])
    }

    @Test func jwksSkipsUnusableKeysAndReportsThem() throws {
        let rsa = try SigningKey.generate(algorithm: .rs256, keyID: "rsa-1")
        let ec = try SigningKey.generate(algorithm: .es384, keyID: "ec-1")
        var noAlg = try SigningKey.generate(algorithm: .ps256, keyID: "rsa-no-alg").publicJWK()
        noAlg["alg"] = nil
        var enc = try ec.publicJWK(kid: "ec-enc")
        enc["use"] = .string("enc")
        let set = JSONObject(members: [
            .init(
                name: "keys",
                value: .array([
                    .object(try rsa.publicJWK()), .object(noAlg), .object(try ec.publicJWK()), .object(enc),
                    .object(
                        JSONObject(members: [
                            .init(name: "kty", value: .string("OKP")), .init(name: "crv", value: .string("Ed448")),
                            .init(name: "x", value: .string("AA"))
                        ]))
                ]))
        ])
        let load = try KeyLoader.verificationKeys(from: set.fileBytes, source: "jwks.json")
        #expect(load.keys.map(\.keyID) == ["rsa-1", "ec-1"])
        #expect(load.keys.map(\.source) == ["jwks.json#rsa-1", "jwks.json#ec-1"])
        #expect(load.skipped.map(\.index) == [1, 3, 4])
        #expect(load.skipped.map(\.reason.code) == [.algorithmRequired, .wrongUse, .unsupportedKey])
        #expect(load.skipped[2].reason.source == "jwks.json#keys[4]")

        // With a default algorithm the RSA key without alg is used, and keys of other algorithms are skipped.
        let pinned = try KeyLoader.verificationKeys(from: set.fileBytes, source: "jwks.json", algorithm: .ps256)
        #expect(pinned.keys.map(\.keyID) == ["rsa-no-alg"])
    }

    @Test func jwksMixingSecretAndPublicKeysIsRefused() throws {
        let set = JSONObject(members: [
            .init(
                name: "keys",
                value: .array([
                    .object(try SigningKey.generate(algorithm: .hs256, keyID: "s").privateJWK()),
                    .object(try SigningKey.generate(algorithm: .es256, keyID: "p").publicJWK())
                ]))
        ])
        #expect(throws: KeyLoadingError(.ambiguousKeySet, source: "", "")) {
            try KeyLoader.verificationKeys(from: set.fileBytes, source: "jwks.json")
        }
    }

    @Test func jwksWithSameKidForDifferentAlgorithmsLoads() throws {
        let key = try SigningKey.generate(algorithm: .rs256, keyID: "k")
        var pss = try key.publicJWK()
        pss["alg"] = .string("PS256")
        let set = JSONObject(members: [.init(name: "keys", value: .array([.object(try key.publicJWK()), .object(pss)]))])
        let load = try KeyLoader.verificationKeys(from: set.fileBytes, source: "jwks.json")
        #expect(load.keys.map(\.algorithm) == [.rs256, .ps256])
    }
}
