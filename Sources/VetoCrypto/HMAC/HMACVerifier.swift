internal import COpenSSL
import VetoCore

/// HS256/384/512: recomputes the MAC and compares it in constant time.
struct HMACVerifier: SignatureVerifier {
    let secret: [UInt8]
    let digest: JWSAlgorithm.Digest
    /// The keyed HMAC context made once; nil if OpenSSL could not, then each call keys one.
    let prepared: PreparedMACContext?

    init(secret: [UInt8], digest: JWSAlgorithm.Digest) {
        self.secret = secret
        self.digest = digest
        self.prepared = PreparedMACContext(secret: secret, digest: digest)
    }

    func verify(signature: [UInt8], signingInput: ArraySlice<UInt8>) -> Bool {
        // The length is public (it is fixed by the algorithm); only the content comparison must be constant-time.
        guard signature.count == digest.length,
            let expected = prepared?.mac(signingInput, length: digest.length)
                ?? HMACComputation.mac(secret: secret, message: signingInput, digest: digest)
        else { return false }
        return expected.withUnsafeBytes { expectedBytes in
            signature.withUnsafeBytes { actual in
                CRYPTO_memcmp(expectedBytes.baseAddress, actual.baseAddress, digest.length) == 0
            }
        }
    }
}

/// Hides the secret from `print`, `dump` and string interpolation.
extension HMACVerifier: CustomStringConvertible, CustomReflectable {
    var description: String { "HMACVerifier(\(digest), \(secret.count)-byte secret)" }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
