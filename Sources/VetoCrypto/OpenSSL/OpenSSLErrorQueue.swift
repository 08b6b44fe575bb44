internal import COpenSSL

/// Reads OpenSSL's per-thread error queue. Every OpenSSL failure is turned into text here.
enum OpenSSLErrorQueue {
    /// Empties this thread's queue and returns its entries joined, or `fallback` when it was empty.
    static func drain(fallback: String = "no detail from OpenSSL") -> String {
        var entries: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            buffer.withUnsafeMutableBufferPointer { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            // Keep the last queue entries short: the first one is usually the cause.
            if entries.count < 4 { entries.append(text) }
        }
        return entries.isEmpty ? fallback : entries.joined(separator: "; ")
    }

    /// Discards queued errors, e.g. after a signature that simply did not verify.
    /// The queue is per thread; leaving stale entries would pollute the next error message.
    static func clear() {
        ERR_clear_error()
    }
}
