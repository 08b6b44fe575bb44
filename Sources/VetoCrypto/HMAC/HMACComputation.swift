internal import COpenSSL
import VetoCore

/// HMAC over one message with the one-shot `HMAC()`, which is thread-safe given an output buffer.
enum HMACComputation {
    /// The MAC of `message` under `secret`; nil only if OpenSSL fails.
    static func mac(secret: [UInt8], message: ArraySlice<UInt8>, digest: JWSAlgorithm.Digest) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = secret.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    HMAC(digest.messageDigest, key.baseAddress, Int32(key.count), input.baseAddress, input.count, out.baseAddress, &length)
                }
            }
        }
        guard result != nil, Int(length) == digest.length else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return Array(output[0..<Int(length)])
    }
}
