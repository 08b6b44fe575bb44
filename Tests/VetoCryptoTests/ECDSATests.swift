import COpenSSL
import Testing
import VetoCore

@testable import VetoCrypto

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

/// The DER written for OpenSSL must be exactly what OpenSSL writes (it rejects any other encoding).
@Suite struct ECDSADERTests {
    @Test(arguments: [ECCurve.p256, .p384, .p521])
    func derRoundTripsThroughOpenSSL(curve: ECCurve) throws {
        var generator = SystemRandomNumberGenerator()
        let length = curve.coordinateLength
        for round in 0..<400 {
            var raw = (0..<(2 * length)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Keep r and s below the order, and exercise leading zeros and high bits.
            raw[0] = round % 3 == 0 ? 0 : raw[0] & 0x7F
            raw[length] = round % 5 == 0 ? 0 : raw[length] & 0x7F
            if round % 7 == 0 { raw[1] = 0 }
            if curve == .p521 { raw[0] &= 0x01; raw[length] &= 0x01 }
            if round % 2 == 1 && curve != .p521 { raw[0] |= 0x80; raw[0] = min(raw[0], curve.order[0] &- 1) }
            guard let der = ECDSASignature.der(fromRaw: raw, curve: curve) else { continue }
            #expect(ECDSASignature.raw(fromDER: der, curve: curve) == raw)
            #expect(der == Self.derByOpenSSL(raw, curve: curve), "round \(round)")
        }
    }

    /// The reference: OpenSSL's own encoder.
    static func derByOpenSSL(_ raw: [UInt8], curve: ECCurve) -> [UInt8]? {
        let length = curve.coordinateLength
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let r = raw[0..<length].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(length), nil) }
        let s = raw[length...].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(length), nil) }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else { return nil }
        var der: UnsafeMutablePointer<UInt8>? = nil
        let count = i2d_ECDSA_SIG(signature, &der)
        guard count > 0, let der else { return nil }
        defer { CRYPTO_free(der, #file, #line) }
        return Array(UnsafeBufferPointer(start: der, count: Int(count)))
    }
}
