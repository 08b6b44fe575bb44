internal import COpenSSL

/// One-shot message digests.
package enum Digest {
    /// SHA-256 of `bytes` (32 bytes). Identifies jti-less tokens (ARCHITECTURE.md, "Revocation entries").
    package static func sha256<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let digest = bytes.withContiguousStorageIfAvailable { sha256(buffer: $0) }
        return digest ?? Array(bytes).withUnsafeBufferPointer { sha256(buffer: $0) }
    }

    private static func sha256(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let status = output.withUnsafeMutableBufferPointer {
            EVP_Digest(buffer.baseAddress, buffer.count, $0.baseAddress, &length, sha256Method ?? EVP_sha256(), nil)
        }
        // SHA-256 cannot fail short of memory exhaustion; a wrong digest would be worse than a crash.
        precondition(status == 1 && length == 32, "EVP_Digest(SHA-256) failed: \(OpenSSLErrorQueue.drain())")
        return output
    }

    /// SHA-256 fetched once: `EVP_sha256()` makes OpenSSL 3 fetch the implementation on every digest.
    nonisolated(unsafe) private static let sha256Method: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
}
