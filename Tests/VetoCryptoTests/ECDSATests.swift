import Testing
import VetoCore
import VetoCrypto

/// ECDSA signature-format rules beyond the Wycheproof ES256 cases.
@Suite struct ECDSATests {
    private let input = Array("eyJhbGciOiJFUzI1NiJ9.e30".utf8)

    /// The P-256 group order n.
    private let p256Order: [UInt8] = hexBytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

    @Test func derEncodedSignatureIsRejected() throws {
        // A JWS carries raw r ‖ s; accepting DER would give one token two valid spellings.
        let signer = try SigningKey.generate(algorithm: .es256)
        let raw = try signer.sign(input)
        let key = try signer.verificationKey()
        #expect(key.verifier.verify(signature: raw, signingInput: input[...]))
        let der = derSignature(r: Array(raw[0..<32]), s: Array(raw[32...]))
        #expect(!key.verifier.verify(signature: der, signingInput: input[...]))
    }

    @Test func rAndSMustBeBelowTheOrder() throws {
        let signer = try SigningKey.generate(algorithm: .es256)
        let raw = try signer.sign(input)
        let key = try signer.verificationKey()
        // r or s equal to n, or zero, is outside [1, n − 1] even where it is congruent to a valid value.
        #expect(!key.verifier.verify(signature: p256Order + Array(raw[32...]), signingInput: input[...]))
        #expect(!key.verifier.verify(signature: Array(raw[0..<32]) + p256Order, signingInput: input[...]))
        #expect(!key.verifier.verify(signature: [UInt8](repeating: 0, count: 32) + Array(raw[32...]), signingInput: input[...]))
    }

    /// - Important: ECDSA signatures are malleable: (r, n − s) verifies too. A token digest that
    ///   covers the signature therefore does not identify a token; the signing input does.
    @Test func highSIsAcceptedSoTheSignatureIsNotAnIdentity() throws {
        let signer = try SigningKey.generate(algorithm: .es256)
        let raw = try signer.sign(input)
        let flipped = Array(raw[0..<32]) + subtract(p256Order, Array(raw[32...]))
        #expect(flipped != raw)
        #expect(try signer.verificationKey().verifier.verify(signature: flipped, signingInput: input[...]))
    }

    private func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: a.count)
        var borrow = 0
        for index in stride(from: a.count - 1, through: 0, by: -1) {
            var value = Int(a[index]) - Int(b[index]) - borrow
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 256 }
            result[index] = UInt8(value)
        }
        return result
    }

    private func derSignature(r: [UInt8], s: [UInt8]) -> [UInt8] {
        func integer(_ bytes: [UInt8]) -> [UInt8] {
            var value = Array(bytes.drop { $0 == 0 })
            if value.first.map({ $0 >= 0x80 }) ?? true { value.insert(0, at: 0) }
            return [0x02, UInt8(value.count)] + value
        }
        let body = integer(r) + integer(s)
        return [0x30, UInt8(body.count)] + body
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var iterator = hex.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        bytes.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) ?? 0)
    }
    return bytes
}
