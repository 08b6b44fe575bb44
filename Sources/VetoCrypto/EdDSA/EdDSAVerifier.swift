import VetoCore

/// EdDSA over Ed25519 (RFC 8037); the key was pinned to `EdDSA` or `Ed25519`, which accept each other.
struct EdDSAVerifier: SignatureVerifier {
    /// An Ed25519 signature is always R ‖ S, 32 bytes each.
    static let signatureLength = 64

    let key: EVPKey

    func verify(signature: [UInt8], signingInput: ArraySlice<UInt8>) -> Bool {
        guard signature.count == Self.signatureLength else { return false }
        return signature.withUnsafeBytes {
            key.verify(signature: $0, message: signingInput, digest: nil, padding: nil)
        }
    }
}
