internal import COpenSSL

/// Bytes from OpenSSL's CSPRNG.
package enum SecureRandom {
    /// `count` random bytes.
    /// - Important: Traps if the CSPRNG fails: returning predictable bytes for a secret would be worse.
    package static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "negative byte count")
        var output = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return output }
        let status = output.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(status == 1, "RAND_bytes failed: \(OpenSSLErrorQueue.drain())")
        return output
    }
}
