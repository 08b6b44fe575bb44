import VetoCore

/// The Redis key layout (KEYS.md):
///
///     <prefix>j:<issuer byte length>:<issuer>:<jti>      token entry
///     <prefix>s:<issuer byte length>:<issuer>:<subject>  subject cut-off
///     <prefix>x:…:<sid>  k:…:<kid>  c:…:<client>  m:…:<email>  i:…:(empty)   the other cut-off kinds
///
/// The decimal length makes the split unambiguous whatever bytes the issuer and jti hold (colons
/// included), and keeps all keys of one issuer under one prefix, so SCAN MATCH can filter by issuer.
struct BlocklistKeys: Sendable {
    enum Kind: UInt8, Sendable, CaseIterable {
        case token = 0x6A  // "j"
        case subject = 0x73  // "s"
        case session = 0x78  // "x"
        case key = 0x6B  // "k"
        case client = 0x63  // "c"
        case issuer = 0x69  // "i"
        case email = 0x6D  // "m"

        init(_ kind: CutoffKind) {
            switch kind {
            case .subject: self = .subject
            case .session: self = .session
            case .key: self = .key
            case .client: self = .client
            case .issuer: self = .issuer
            case .email: self = .email
            }
        }

        /// The cut-off kind of this key; nil for a token entry.
        var cutoffKind: CutoffKind? {
            switch self {
            case .token: nil
            case .subject: .subject
            case .session: .session
            case .key: .key
            case .client: .client
            case .issuer: .issuer
            case .email: .email
            }
        }
    }

    let prefix: [UInt8]

    init(prefix: String) {
        self.prefix = Array(prefix.utf8)
    }

    func token(issuer: String, jti: String) -> [UInt8] {
        key(.token, issuer: issuer, id: jti)
    }

    func subject(issuer: String, subject: String) -> [UInt8] {
        cutoff(issuer: issuer, kind: .subject, value: subject)
    }

    func cutoff(issuer: String, kind: CutoffKind, value: String) -> [UInt8] {
        key(Kind(kind), issuer: issuer, id: kind.stored(value))
    }

    private func key(_ kind: Kind, issuer: String, id: String) -> [UInt8] {
        let issuerBytes = Array(issuer.utf8)
        var key = prefix
        key.reserveCapacity(prefix.count + issuerBytes.count + id.utf8.count + 12)
        key.append(kind.rawValue)
        key.append(UInt8(ascii: ":"))
        key.append(contentsOf: String(issuerBytes.count).utf8)
        key.append(UInt8(ascii: ":"))
        key.append(contentsOf: issuerBytes)
        key.append(UInt8(ascii: ":"))
        key.append(contentsOf: id.utf8)
        return key
    }

    /// A SCAN MATCH pattern for one kind, optionally one issuer; glob characters in the literal parts escaped.
    func pattern(_ kind: Kind, issuer: String? = nil) -> [UInt8] {
        var literal = prefix + [kind.rawValue, UInt8(ascii: ":")]
        if let issuer {
            let issuerBytes = Array(issuer.utf8)
            literal += Array(String(issuerBytes.count).utf8) + [UInt8(ascii: ":")] + issuerBytes + [UInt8(ascii: ":")]
        }
        return Self.globEscaped(literal) + [UInt8(ascii: "*")]
    }

    /// A pattern for every key under the prefix.
    var everything: [UInt8] {
        Self.globEscaped(prefix) + [UInt8(ascii: "*")]
    }

    /// Splits a key back into its kind, issuer and id; `nil` for keys not in this layout.
    func parse(_ key: [UInt8]) -> (kind: Kind, issuer: String, id: String)? {
        guard key.count > prefix.count + 2, key.starts(with: prefix) else { return nil }
        var index = prefix.count
        guard let kind = Kind(rawValue: key[index]), key[index + 1] == UInt8(ascii: ":") else { return nil }
        index += 2
        var length = 0
        let digitsStart = index
        while index < key.count, key[index] >= UInt8(ascii: "0"), key[index] <= UInt8(ascii: "9"), index - digitsStart < 6 {
            length = length * 10 + Int(key[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > digitsStart, index < key.count, key[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        guard index + length < key.count, key[index + length] == UInt8(ascii: ":") else { return nil }
        let issuer = key[index..<(index + length)]
        let id = key[(index + length + 1)...]
        guard let issuerText = String(validating: issuer, as: UTF8.self),
            let idText = String(validating: id, as: UTF8.self)
        else { return nil }
        return (kind, issuerText, idText)
    }

    /// A key as text for messages: printable ASCII as is, anything else as \xNN.
    static func display(_ key: [UInt8]) -> String {
        var text = ""
        for byte in key {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789abcdef".utf8)
                text += "\\x" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return text
    }

    private static func globEscaped(_ bytes: [UInt8]) -> [UInt8] {
        var escaped = [UInt8]()
        escaped.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\\"):
                escaped.append(UInt8(ascii: "\\"))
            default:
                break
            }
            escaped.append(byte)
        }
        return escaped
    }
}
