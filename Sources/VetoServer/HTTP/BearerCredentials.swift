/// The one parser of `Authorization: Bearer <token>` (RFC 6750 §2.1), used by the data plane for the
/// token to check and by the control plane for the admin token, so both accept the same spellings:
/// the scheme in any ASCII case, one space after it, and spaces (only spaces) around the token.
enum BearerCredentials {
    /// What follows `Bearer ` without surrounding spaces; nil for another scheme or no credentials
    /// part. One pass over the header's bytes and one copy of the token; empty for `Bearer ` + spaces.
    static func parse(_ header: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard header.count > 7 else { return nil }
        let scheme: [UInt8] = [0x62, 0x65, 0x61, 0x72, 0x65, 0x72]  // "bearer"
        for index in 0..<6 where header[index] | 0x20 != scheme[index] { return nil }
        guard header[6] == UInt8(ascii: " ") else { return nil }
        var start = 7
        var end = header.count
        while start < end && header[start] == UInt8(ascii: " ") { start += 1 }
        while end > start && header[end - 1] == UInt8(ascii: " ") { end -= 1 }
        return Array(UnsafeBufferPointer(rebasing: header[start..<end]))
    }

    /// The same on a header value.
    static func parse(_ header: String) -> [UInt8]? {
        header.utf8.withContiguousStorageIfAvailable(parse) ?? Array(header.utf8).withUnsafeBufferPointer(parse)
    }
}
