/// Reading `revoke` records the way Veto writes them, without building a JSON tree: replaying a
/// journal of a million entries is mostly this (README "Performance": replay ≤ 5 s).
///
/// The reader accepts exactly the compact layout `JournalRecord.payload` produces — members in that
/// order, no whitespace, strings without escapes, numbers as `EntryJSON.numberText` writes them —
/// and returns nil for anything else, which then goes through the general JSON reader. So any
/// valid record reads the same either way; this path is only faster.
extension JournalRecord {
    static func fastRevoke(_ payload: ArraySlice<UInt8>) -> JournalRecord? {
        payload.withContiguousStorageIfAvailable { bytes -> JournalRecord? in
            var reader = LayoutReader(bytes: bytes)
            guard reader.literal(#"{"op":"revoke","iss":"#), let issuer = reader.string(),
                reader.literal(#","jti":"#), let jti = reader.string(),
                reader.literal(#","sub":"#), let subject = reader.optional({ $0.string() }),
                reader.literal(#","exp":"#), let exp = reader.optional({ $0.number() }),
                reader.literal(#","revoked_at":"#), let revokedAt = reader.number(),
                reader.literal(#","reason":"#), let reason = reader.string(),
                reader.literal(#","actor":"#), let actor = reader.optional({ $0.string() }),
                reader.literal(#","expires_at":"#), let expiresAt = reader.number(),
                reader.literal("}"), reader.atEnd
            else { return nil }
            return .revoke(
                RevocationEntry(
                    issuer: issuer, jti: jti, subject: subject, tokenExpiresAt: exp, revokedAt: revokedAt,
                    reason: reason, actor: actor, entryExpiresAt: expiresAt))
        } ?? nil
    }
}

private struct LayoutReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// `null` → .some(nil); a value → .some(value); anything else → nil.
    mutating func optional<T>(_ value: (inout LayoutReader) -> T?) -> T?? {
        if literal("null") { return .some(nil) }
        guard let parsed = value(&self) else { return nil }
        return .some(parsed)
    }

    /// A string without escapes or control characters, valid UTF-8.
    mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        var ascii = true
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            if byte >= 0x80 { ascii = false }
            end += 1
        }
        guard end < bytes.count else { return nil }
        let content = UnsafeBufferPointer(rebasing: bytes[start..<end])
        let string = ascii ? String(decoding: content, as: UTF8.self) : String(validating: content, as: UTF8.self)
        guard let string else { return nil }
        index = end + 1
        return string
    }

    /// `-?digits(.d{1,3})?` with no leading zeros and no trailing zero in the fraction: the only
    /// form `EntryJSON.numberText` writes. Its value is milliseconds / 1000, which is exactly what
    /// parsing the text gives (both are the double nearest to the decimal, as long as the number of
    /// milliseconds is below 2^53).
    mutating func number() -> Double? {
        var position = index
        let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let integerStart = position
        var milliseconds: Int64 = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            guard milliseconds < 1 << 40 else { return nil }
            milliseconds = milliseconds * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
            position += 1
        }
        let integerDigits = position - integerStart
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
        var decimals = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]), decimals < 3 {
                milliseconds = milliseconds * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                position += 1
                decimals += 1
            }
            guard decimals > 0, bytes[position - 1] != UInt8(ascii: "0") else { return nil }
        }
        for _ in decimals..<3 { milliseconds *= 10 }
        guard milliseconds < 1 << 53 else { return nil }
        index = position
        let value = Double(milliseconds) / 1000
        return negative ? -value : value
    }
}
