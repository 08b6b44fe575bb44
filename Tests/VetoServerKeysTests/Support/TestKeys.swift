import VetoCore
import VetoCrypto

/// Ed25519 key pairs from RFC 8032 §7.1 (tests 1–3), as JWKs, and tokens signed with them.
struct TestKey: Sendable {
    let kid: String
    let privateHex: String
    let publicHex: String

    static func one(kid: String) -> TestKey {
        TestKey(
            kid: kid, privateHex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicHex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    }

    static func two(kid: String) -> TestKey {
        TestKey(
            kid: kid, privateHex: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicHex: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
    }

    static func three(kid: String) -> TestKey {
        TestKey(
            kid: kid, privateHex: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicHex: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025")
    }

    var publicJWK: String {
        #"{"kty":"OKP","crv":"Ed25519","use":"sig","alg":"EdDSA","kid":"\#(kid)","x":"\#(Base64URL.encode(hex(publicHex)))"}"#
    }

    /// The public key, loaded as `--key` would load it.
    func verificationKey() throws -> VerificationKey {
        try KeyLoader.verificationKeys(from: Array(publicJWK.utf8), source: "\(kid).jwk").keys[0]
    }

    /// A compact JWS with this key's kid, signed by this key.
    func token(subject: String = "alice") throws -> String {
        let privateJWK =
            #"{"kty":"OKP","crv":"Ed25519","kid":"\#(kid)","d":"\#(Base64URL.encode(hex(privateHex)))","x":"\#(Base64URL.encode(hex(publicHex)))"}"#
        let signer = try SigningKey.load(from: Array(privateJWK.utf8), source: "test")
        let header = Base64URL.encode(Array(#"{"alg":"EdDSA","kid":"\#(kid)"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"sub":"\#(subject)"}"#.utf8))
        let signingInput = "\(header).\(payload)"
        return "\(signingInput).\(Base64URL.encode(try signer.sign(Array(signingInput.utf8))))"
    }

    private func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}

enum JWKS {
    static func document(_ keys: [TestKey]) -> String {
        #"{"keys":[\#(keys.map(\.publicJWK).joined(separator: ","))]}"#
    }

    /// A 2048-bit RSA public key without `alg`, as Azure publishes them.
    static let rsaWithoutAlgorithm =
        #"{"keys":[{"kty":"RSA","use":"sig","kid":"azure-1","e":"AQAB","n":"m2BRm9-zdGL4RDpBw3Y4p4Heeq8-0CiU10G6WKIS-dNCezwKIc65m3t7t_POxqL_UInP-VR--z7LL7iJwLIwteNLvaMCtkuLcND_DLAmSwN4CBS8fuJV_3o6_JieKzPijPEH42NYnayFbWOTxSrIZAvAKJ0GFsVrqtwXIhBtjnq8Q5wQqj8LioV_4xGdr7K0gvdjUSNZvltHrBkKMV55IRpWnDx39SvWz2D8eR9Gt4jWF-CD7eVHRt2fO_BIqGHANuWEhbRZYf0TKNXlT9iitBJDLt81Gse3f1JjoR2wGqGqayq1wwz0Htf2AtPZfCngRf9bhqO-0EEeoZpnhLvw_w"}]}"#
}

extension KeySet {
    /// Whether `token` verifies with this set; the failure code otherwise.
    func check(_ token: String) throws -> ReasonCode? {
        switch verify(try CompactJWS.parse(token)) {
        case .success: nil
        case let .failure(failure): failure.code
        }
    }
}
