import VetoCore
import VetoCrypto

/// The token parser and validator (CompactJWS, JOSEHeader, JWTClaims, KeySet, every verifier).
///
/// Even first byte: the rest is a token, validated against one key per algorithm family; it must
/// never be valid (a forgery), and must fail with at least one reason. Odd first byte: the rest is
/// a payload that a real key signs; the result must never be a signature or algorithm failure.
enum TokenHarness {
    static let now: Double = 1_712_400_000

    static let signers: [SigningKey] = {
        do {
            return try [JWSAlgorithm.es256, .rs256, .edDSA, .hs256, .ps384, .es512].map { algorithm in
                try SigningKey.generate(algorithm: algorithm, keyID: algorithm == .ps384 ? "ps" : nil)
            }
        } catch {
            violated("cannot generate fuzzing keys: \(error)")
        }
    }()

    static let validator: TokenValidator = {
        var keys: [VerificationKey] = []
        for signer in signers {
            do {
                if signer.algorithm.family == .hmac {
                    keys += try KeyLoader.verificationKeys(from: Array("fuzz-secret-of-32-bytes-at-least!".utf8), source: "hs", algorithm: .hs256)
                        .keys
                } else {
                    keys.append(try signer.verificationKey())
                }
            } catch {
                violated("cannot load fuzzing keys: \(error)")
            }
        }
        return TokenValidator(
            policy: IssuerPolicy(
                issuer: "https://fuzz.example", audiences: ["api"], keys: KeySet(keys),
                requiredClaims: ["exp", "jti"], maxTokenSize: 1 << 16))
    }()

    static func run(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        if mode & 1 == 0 {
            let report = validator.validate(rest, now: now)
            if report.isValid { violated("an unsigned input validated: \(String(decoding: rest, as: UTF8.self))") }
            if report.failures.isEmpty { violated("a rejection without a reason") }
            _ = try? TokenInspection.inspect(String(decoding: rest, as: UTF8.self), now: now)
        } else {
            let signer = signers[Int(mode >> 1) % signers.count]
            var header = #"{"alg":"\#(signer.algorithm.rawValue)""#
            if let kid = signer.keyID { header += #","kid":"\#(kid)""# }
            header += "}"
            let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(rest)
            guard signer.algorithm.family != .hmac, let signature = try? signer.sign(Array(signingInput.utf8)) else { return }
            let report = validator.validate(Array((signingInput + "." + Base64URL.encode(signature)).utf8), now: now)
            for failure in report.failures
            where [.signatureInvalid, .algorithmNotAllowed, .unknownKeyID, .malformedToken].contains(failure.code)
                && failure.check != .structure
            {
                violated("a genuinely signed token failed \(failure)")
            }
            if report.failures.contains(where: { $0.code == .signatureInvalid }) { violated("genuine signature refused") }
        }
    }
}
