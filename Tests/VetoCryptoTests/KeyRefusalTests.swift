import Testing
import VetoCore
import VetoCrypto

/// Load-time refusals: each names the code and the actual value in its message.
@Suite struct KeyRefusalTests {
    private func refusal(_ bytes: [UInt8], algorithm: JWSAlgorithm? = nil, source: String = "key") -> KeyLoadingError? {
        do {
            let load = try KeyLoader.verificationKeys(from: bytes, source: source, algorithm: algorithm)
            Issue.record("\(source) loaded as \(load.keys.map(\.label)) but should have been refused")
            return nil
        } catch {
            return error
        }
    }

    private func jwk(_ members: [(String, JSONValue)]) -> [UInt8] {
        JSONObject(members: members.map { JSONObject.Member(name: $0.0, value: $0.1) }).fileBytes
    }

    /// The RFC 7515 A.3 P-256 public key.
    private let p256X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    private let p256Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

    @Test func rsa1024IsRefused() throws {
        let error = refusal(try Vectors.bytes("Fixtures/rsa-1024-public.pem"), algorithm: .rs256, source: "rsa.pem")
        #expect(error?.code == .weakKey)
        #expect(error?.description == "rsa.pem: RSA key is 1024 bits; at least 2048 are required")
    }

    @Test(arguments: [(JWSAlgorithm.hs256, 31), (.hs384, 47), (.hs512, 63)])
    func shortHMACSecretIsRefused(algorithm: JWSAlgorithm, length: Int) throws {
        let raw = refusal([UInt8](repeating: 0x61, count: length), algorithm: algorithm)
        #expect(raw?.code == .weakKey)
        #expect(raw?.message.contains("\(length) bytes; \(algorithm) needs at least \(length + 1)") == true, "\(String(describing: raw))")
        let key = jwk([("kty", .string("oct")), ("k", .string(Base64URL.encode([UInt8](repeating: 1, count: length))))])
        #expect(refusal(key, algorithm: algorithm)?.code == .weakKey)
    }

    @Test func hmacSecretOfHashLengthIsAccepted() throws {
        let load = try KeyLoader.verificationKeys(from: [UInt8](repeating: 0x61, count: 32), source: "secret", algorithm: .hs256)
        #expect(load.keys.map(\.summary) == ["HMAC 32-byte secret"])
    }

    @Test func ecPointOffTheCurveIsRefused() {
        var y = try! Base64URL.decode(p256Y)
        y[31] ^= 0x01
        let key = jwk([("kty", .string("EC")), ("crv", .string("P-256")), ("x", .string(p256X)), ("y", .string(Base64URL.encode(y)))])
        let error = refusal(key)
        #expect(error?.code == .invalidKey)
        #expect(error?.message.contains("P-256") == true)
    }

    @Test func jwkWithUseEncIsRefused() {
        let key = jwk([("kty", .string("EC")), ("crv", .string("P-256")), ("x", .string(p256X)), ("y", .string(p256Y)), ("use", .string("enc"))])
        let error = refusal(key)
        #expect(error?.code == .wrongUse)
        #expect(error?.message.contains("\"enc\"") == true)
    }

    @Test func jwkKeyOpsWithoutVerifyIsRefused() {
        let key = jwk([
            ("kty", .string("EC")), ("crv", .string("P-256")), ("x", .string(p256X)), ("y", .string(p256Y)),
            ("key_ops", .array([.string("encrypt")]))
        ])
        #expect(refusal(key)?.code == .wrongUse)
    }

    @Test func jwkAlgThatDisagreesWithItsKeyIsRefused() throws {
        let ec = jwk([("kty", .string("EC")), ("crv", .string("P-256")), ("x", .string(p256X)), ("y", .string(p256Y)), ("alg", .string("RS256"))])
        let error = refusal(ec)
        #expect(error?.code == .algorithmMismatch)
        #expect(error?.message == "RS256 needs an RSA key, but this is an EC P-256 key")

        let curve = jwk([("kty", .string("EC")), ("crv", .string("P-256")), ("x", .string(p256X)), ("y", .string(p256Y)), ("alg", .string("ES384"))])
        #expect(refusal(curve)?.code == .algorithmMismatch)

        var rsa = try Vectors.object("jose-cookbook/jwk/3_3.rsa_public_key.json")
        rsa["alg"] = .string("ES256")
        #expect(refusal(rsa.fileBytes)?.code == .algorithmMismatch)
    }

    @Test func prefixThatDisagreesWithJWKAlgIsRefused() throws {
        var rsa = try Vectors.object("jose-cookbook/jwk/3_3.rsa_public_key.json")
        rsa["alg"] = .string("RS256")
        let error = refusal(rsa.fileBytes, algorithm: .ps256)
        #expect(error?.code == .algorithmMismatch)
        #expect(error?.message == "the key is requested as PS256, but the JWK says \"alg\": \"RS256\"")
    }

    @Test func jwkAlgNoneAndUnknownAreRefused() {
        for name in ["none", "ES521", "RSA-OAEP", "HS1"] {
            let key = jwk([("kty", .string("oct")), ("k", .string(Base64URL.encode([UInt8](repeating: 1, count: 64)))), ("alg", .string(name))])
            #expect(refusal(key)?.code == .unsupportedAlgorithm, "alg \(name)")
        }
    }

    @Test(arguments: [
        "rsa-2048-public.pem", "rsa-2048-pkcs1-public.pem", "rsa-2048-public.der", "ec-p256-certificate.pem", "ed25519-public.pem",
        "rsa-2048-private.pem"
    ])
    func publicKeyAsHMACSecretIsKeyConfusion(fixture: String) throws {
        let error = refusal(try Vectors.bytes("Fixtures/\(fixture)"), algorithm: .hs256, source: fixture)
        #expect(error?.code == .keyConfusion, "\(String(describing: error))")
        #expect(error?.message.contains("key-confusion") == true)
    }

    @Test func nonOctJWKAsHMACIsKeyConfusion() throws {
        let rsa = try Vectors.bytes("jose-cookbook/jwk/3_3.rsa_public_key.json")
        #expect(refusal(rsa, algorithm: .hs256)?.code == .keyConfusion)
        let ec = try Vectors.bytes("jose-cookbook/jwk/3_1.ec_public_key.json")
        #expect(refusal(ec, algorithm: .hs512)?.code == .keyConfusion)
    }

    @Test func es256WithP384KeyIsRefused() throws {
        let error = refusal(try Vectors.bytes("Fixtures/ec-p384-public.pem"), algorithm: .es256)
        #expect(error?.code == .algorithmMismatch)
        #expect(error?.message == "ES256 needs an EC P-256 key, but this is an EC P-384 key")
    }

    @Test func rsaWithoutAlgorithmNeedsOne() throws {
        let error = refusal(try Vectors.bytes("Fixtures/rsa-2048-public.pem"))
        #expect(error?.code == .algorithmRequired)
        #expect(error?.message.contains("an RSA key needs an algorithm: write RS256:FILE or PS256:FILE") == true)
    }

    @Test func rawSecretWithoutAlgorithmNeedsOne() {
        let error = refusal(Array("a raw secret that is long enough for HS256!".utf8))
        #expect(error?.code == .algorithmRequired)
        #expect(error?.message.contains("HS256:FILE") == true)
    }

    @Test func brokenJSONNeverBecomesASecret() {
        // Duplicate members make this invalid JSON; it must not fall through to "raw HMAC secret".
        let bytes = Array(#"{"kty":"oct","kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#.utf8)
        #expect(refusal(bytes, algorithm: .hs256)?.code == .malformedKey)
    }

    @Test func jsonLookingFileNeverBecomesASecret() throws {
        let jwk = try Vectors.bytes("jose-cookbook/jwk/3_3.rsa_public_key.json")
        // With a byte-order mark the JSON reader refuses the file; it must still not be an HMAC secret.
        #expect(refusal([0xEF, 0xBB, 0xBF] + jwk, algorithm: .hs256)?.code == .malformedKey)
        #expect(refusal(Array("[\n".utf8) + jwk + Array("]".utf8), algorithm: .hs256)?.code == .malformedKey)
    }

    @Test(arguments: [("ec-secp256k1-public.pem", JWSAlgorithm?.none), ("rsa-pss-restricted-public.pem", .ps256)])
    func unsupportedKeyTypesAreRefused(fixture: String, algorithm: JWSAlgorithm?) throws {
        #expect(refusal(try Vectors.bytes("Fixtures/\(fixture)"), algorithm: algorithm)?.code == .unsupportedKey)
    }

    @Test func x25519IsRefused() {
        let key = jwk([("kty", .string("OKP")), ("crv", .string("X25519")), ("x", .string(Base64URL.encode([UInt8](repeating: 9, count: 32))))])
        let error = refusal(key)
        #expect(error?.code == .unsupportedKey)
        #expect(error?.message.contains("key agreement") == true)
    }

    @Test func rsaKeyWithEvenExponentIsRefused() throws {
        var rsa = try Vectors.object("jose-cookbook/jwk/3_3.rsa_public_key.json")
        rsa["e"] = .string(Base64URL.encode([0x01, 0x00, 0x00]))
        #expect(refusal(rsa.fileBytes, algorithm: .rs256)?.code == .weakKey)
    }

    @Test func pemWithTwoKeysIsAmbiguous() throws {
        let two = try Vectors.bytes("Fixtures/rsa-2048-public.pem") + Vectors.bytes("Fixtures/ec-p384-public.pem")
        #expect(refusal(two, algorithm: .rs256)?.code == .ambiguousKeySet)
    }
}
