import VetoCore

/// (issuer, jti) or (issuer, subject) compared byte for byte, as Redis compares keys. Swift strings
/// compare by canonical equivalence, which would merge ids that differ only in Unicode normalisation.
struct EntryKey: Hashable, Sendable {
    let issuer: [UInt8]
    let id: [UInt8]

    init(issuer: String, id: String) {
        self.issuer = Array(issuer.utf8)
        self.id = Array(id.utf8)
    }

    init(issuer: [UInt8], id: [UInt8]) {
        self.issuer = issuer
        self.id = id
    }

    /// Order for listing: issuer, then id, bytewise.
    static func precedes(_ lhs: EntryKey, _ rhs: EntryKey) -> Bool {
        lhs.issuer == rhs.issuer ? lhs.id.lexicographicallyPrecedes(rhs.id) : lhs.issuer.lexicographicallyPrecedes(rhs.issuer)
    }

    /// A listing cursor: `<issuer length>:<issuer>:<id>` in hex, so any bytes survive.
    var cursor: String {
        let bytes = Array(String(issuer.count).utf8) + [UInt8(ascii: ":")] + issuer + [UInt8(ascii: ":")] + id
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    init?(cursor: String) {
        let hex = Array(cursor.utf8)
        guard !hex.isEmpty, hex.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
            let length = Int(String(decoding: bytes[..<colon], as: UTF8.self)),
            length >= 0, colon + 1 + length < bytes.count, bytes[colon + 1 + length] == UInt8(ascii: ":")
        else { return nil }
        self.issuer = Array(bytes[(colon + 1)..<(colon + 1 + length)])
        self.id = Array(bytes[(colon + 2 + length)...])
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// A cut-off's identity: (kind, issuer, value), bytes compared as Redis compares keys.
struct CutoffKey: Hashable, Sendable {
    let kind: CutoffKind
    let key: EntryKey

    init(issuer: String, kind: CutoffKind, value: String) {
        self.kind = kind
        self.key = EntryKey(issuer: issuer, id: kind.stored(value))
    }
}
