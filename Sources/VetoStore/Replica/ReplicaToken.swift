/// A replica's token entry: (issuer, jti) and when it goes, in 64 bytes.
///
/// A replica holds every revoked token of the blocklist (a million in 160 MiB, Scripts/bench --scale),
/// so the jti's first 40 bytes live inline and only longer ones spill to the heap. The set is exact:
/// entries compare by every byte of the issuer's number and the jti, never by a hash alone.
struct ReplicaToken: Hashable, Sendable {
    static let inlineBytes = 40

    /// When the entry goes (unix seconds); `.infinity` for a key without a TTL.
    let expiresAt: Double
    let issuer: UInt32
    private let count: UInt32
    private let words: (UInt64, UInt64, UInt64, UInt64, UInt64)
    /// The bytes after the first 40, for longer jtis.
    private let overflow: [UInt8]?

    init(issuer: UInt32, jti: some Collection<UInt8>, expiresAt: Double) {
        self.issuer = issuer
        self.expiresAt = expiresAt
        self.count = UInt32(jti.count)
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (offset, byte) in jti.prefix(Self.inlineBytes).enumerated() { raw[offset] = byte }
        }
        self.words = words
        self.overflow = jti.count > Self.inlineBytes ? Array(jti.dropFirst(Self.inlineBytes)) : nil
    }

    /// The same entry living until `expiresAt`.
    func living(until expiresAt: Double) -> ReplicaToken {
        ReplicaToken(issuer: issuer, count: count, words: words, overflow: overflow, expiresAt: expiresAt)
    }

    private init(issuer: UInt32, count: UInt32, words: (UInt64, UInt64, UInt64, UInt64, UInt64), overflow: [UInt8]?, expiresAt: Double) {
        self.issuer = issuer
        self.count = count
        self.words = words
        self.overflow = overflow
        self.expiresAt = expiresAt
    }

    /// Equal when issuer and jti are (the expiry is not part of the identity).
    static func == (lhs: ReplicaToken, rhs: ReplicaToken) -> Bool {
        lhs.issuer == rhs.issuer && lhs.count == rhs.count && lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4 && lhs.overflow == rhs.overflow
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(issuer)
        hasher.combine(count)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
        hasher.combine(words.4)
        if let overflow { hasher.combine(overflow) }
    }
}
