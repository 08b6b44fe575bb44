import VetoCore

/// The embedded store's entries in memory. Expired entries stay until ``dropExpired(now:)``; every
/// read skips them.
///
/// Token entries are kept compact, since a busy issuer can have a million of them (Scripts/bench
/// --scale): issuer, reason and actor are interned (few distinct values), jti and subject share one
/// byte array, times are stored as numbers. An entry is turned back into a `RevocationEntry` only
/// when it is read.
struct EmbeddedState: Sendable {
    private var tokens = TokenTable<StoredToken>()
    private(set) var cutoffs = [CutoffKey: Cutoff]()
    private var issuers = InternTable()
    /// "logout", "password reset"…
    private var reasons = InternTable()
    /// "self", an admin's name…
    private var actors = InternTable()

    var count: Int { tokens.count + cutoffs.count }
    var tokenCount: Int { tokens.count }

    /// Room for `count` token entries without growing (replay reserves what the journal holds).
    mutating func reserveTokens(_ count: Int) {
        tokens.reserve(count)
    }

    func token(issuer: String, jti: String, now: Double) -> RevocationEntry? {
        guard let issuerID = issuers.id(of: issuer),
            let stored = tokens.find(StoredToken.probe(issuer: issuerID, jti: jti)),
            !RevocationRules.isExpired(stored.entryExpiresAt, now: now)
        else { return nil }
        return entry(stored)
    }

    func token(_ key: EntryKey, now: Double) -> RevocationEntry? {
        token(issuer: String(decoding: key.issuer, as: UTF8.self), jti: String(decoding: key.id, as: UTF8.self), now: now)
    }

    func cutoff(_ key: CutoffKey, now: Double) -> Cutoff? {
        guard !cutoffs.isEmpty, let cutoff = cutoffs[key], !RevocationRules.isExpired(cutoff.entryExpiresAt, now: now) else { return nil }
        return cutoff
    }

    /// The first cut-off of `query` that refuses its token, in ``CutoffValues/forEach(_:)`` order.
    func refusingCutoff(_ query: RevocationQuery, now: Double) -> Cutoff? {
        guard !cutoffs.isEmpty else { return nil }
        var refusing: Cutoff?
        query.values.forEach { kind, value in
            guard refusing == nil, let cutoff = cutoff(CutoffKey(issuer: query.issuer, kind: kind, value: value), now: now),
                RevocationRules.cutoffRejects(issuedAt: query.issuedAt, cutoff: cutoff.cutoff)
            else { return }
            refusing = cutoff
        }
        return refusing
    }

    /// Live cut-offs, optionally of one issuer and kind, in (issuer, kind, value) order.
    func liveCutoffs(issuer: String?, kind: CutoffKind?, now: Double) -> [Cutoff] {
        cutoffs.values.filter { cutoff in
            !RevocationRules.isExpired(cutoff.entryExpiresAt, now: now) && (kind == nil || cutoff.kind == kind)
                && (issuer.map { cutoff.issuer.utf8.elementsEqual($0.utf8) } ?? true)
        }.sorted { ($0.issuer, $0.kind.rawValue, $0.value) < ($1.issuer, $1.kind.rawValue, $1.value) }
    }

    mutating func apply(_ record: JournalRecord) {
        switch record {
        case .revoke(let entry):
            let stored = StoredToken(
                entry, issuer: issuers.intern(entry.issuer), reason: reasons.intern(entry.reason),
                actor: entry.actor.map { actors.intern($0) + 1 } ?? 0)
            tokens.upsert(stored)
        case .cutoff(let cutoff):
            cutoffs[CutoffKey(issuer: cutoff.issuer, kind: cutoff.kind, value: cutoff.value)] = cutoff
        case .remove(let issuer, let jti):
            if let issuerID = issuers.id(of: issuer) { tokens.remove(StoredToken.probe(issuer: issuerID, jti: jti)) }
        case .removeCutoff(let issuer, let kind, let value):
            cutoffs[CutoffKey(issuer: issuer, kind: kind, value: value)] = nil
        }
    }

    /// Removes expired entries in place (no copy of the whole set).
    mutating func dropExpired(now: Double) {
        tokens.removeAll { RevocationRules.isExpired($0.entryExpiresAt, now: now) }
        cutoffs = cutoffs.filter { !RevocationRules.isExpired($0.value.entryExpiresAt, now: now) }
    }

    /// The first `limit` live token entries in (issuer, jti) byte order after `after` that match the
    /// filters, and whether more follow. One pass that keeps only the best `limit + 1`, so listing a
    /// million entries needs memory for a page, not for the million.
    func page(issuer: String?, subject: String?, reason: String?, after: EntryKey?, limit: Int, now: Double)
        -> (entries: [RevocationEntry], keys: [EntryKey], more: Bool)
    {
        let wanted = limit + 1
        let issuerBytes = (0..<issuers.count).map { Array(issuers.string(UInt32($0)).utf8) }
        let issuerFilter = issuer.map { Array($0.utf8) }
        // Reasons compare as strings (as entries did before interning): decide once per distinct reason.
        let reasonMatches = (0..<reasons.count).map { reason == nil || reasons.string(UInt32($0)) == reason }
        func precedes(_ lhs: (issuer: [UInt8], id: ArraySlice<UInt8>), _ rhs: (issuer: [UInt8], id: ArraySlice<UInt8>)) -> Bool {
            lhs.issuer == rhs.issuer ? lhs.id.lexicographicallyPrecedes(rhs.id) : lhs.issuer.lexicographicallyPrecedes(rhs.issuer)
        }
        let afterKey = after.map { (issuer: $0.issuer, id: $0.id[...]) }
        var best: [(key: (issuer: [UInt8], id: ArraySlice<UInt8>), stored: StoredToken)] = []
        best.reserveCapacity(wanted + 1)
        for stored in tokens.all where !RevocationRules.isExpired(stored.entryExpiresAt, now: now) && reasonMatches[Int(stored.reason)] {
            let key = (issuer: issuerBytes[Int(stored.issuer)], id: stored.jtiBytes)
            guard issuerFilter == nil || key.issuer == issuerFilter,
                afterKey.map({ precedes($0, key) }) ?? true,
                best.count < wanted || precedes(key, best[best.count - 1].key),
                subject == nil || stored.subject == subject
            else { continue }
            var low = 0, high = best.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(best[middle].key, key) { low = middle + 1 } else { high = middle }
            }
            best.insert((key, stored), at: low)
            if best.count > wanted { best.removeLast() }
        }
        let more = best.count > limit
        let kept = best.prefix(limit)
        return (kept.map { entry($0.stored) }, kept.map { EntryKey(issuer: $0.key.issuer, id: Array($0.key.id)) }, more)
    }

    func liveTokenCount(now: Double) -> Int {
        tokens.all.count { !RevocationRules.isExpired($0.entryExpiresAt, now: now) }
    }

    /// The records that rebuild every live entry: the content of a compacted journal, one at a time.
    func forEachLiveRecord(now: Double, _ body: (JournalRecord) throws(StoreError) -> Void) throws(StoreError) {
        for stored in tokens.all where !RevocationRules.isExpired(stored.entryExpiresAt, now: now) {
            try body(.revoke(entry(stored)))
        }
        for cutoff in cutoffs.values where !RevocationRules.isExpired(cutoff.entryExpiresAt, now: now) {
            try body(.cutoff(cutoff))
        }
    }

    var liveRecordCount: Int { count }

    private func entry(_ stored: StoredToken) -> RevocationEntry {
        RevocationEntry(
            issuer: issuers.string(stored.issuer), jti: stored.jti, subject: stored.subject, tokenExpiresAt: stored.tokenExpiresAt,
            revokedAt: stored.revokedAt, reason: reasons.string(stored.reason),
            actor: stored.actor == 0 ? nil : actors.string(stored.actor - 1), entryExpiresAt: stored.entryExpiresAt)
    }
}

/// A revoked token in memory. Equal and hashed by (issuer, jti bytes) only, so a probe with just
/// those finds the entry.
struct StoredToken: Hashable, Sendable {
    let entryExpiresAt: Double
    let revokedAt: Double
    /// NaN: unknown.
    private let tokenExpiresAtValue: Double
    /// The jti's UTF-8 bytes, then the subject's.
    private let bytes: [UInt8]
    let issuer: UInt32
    let reason: UInt32
    /// 0: none; otherwise actor id + 1.
    let actor: UInt32
    /// Length of the jti in `bytes`; the top bit says whether a subject follows.
    private let jtiField: UInt32

    private static let hasSubjectBit: UInt32 = 1 << 31

    init(_ entry: RevocationEntry, issuer: UInt32, reason: UInt32, actor: UInt32) {
        var bytes = Array(entry.jti.utf8)
        let jtiLength = UInt32(bytes.count)
        if let subject = entry.subject { bytes.append(contentsOf: subject.utf8) }
        self.bytes = bytes
        self.jtiField = jtiLength | (entry.subject == nil ? 0 : Self.hasSubjectBit)
        self.issuer = issuer
        self.reason = reason
        self.actor = actor
        self.entryExpiresAt = entry.entryExpiresAt
        self.revokedAt = entry.revokedAt
        self.tokenExpiresAtValue = entry.tokenExpiresAt ?? .nan
    }

    private init(probeIssuer issuer: UInt32, jti: String) {
        self.bytes = Array(jti.utf8)
        self.jtiField = UInt32(bytes.count)
        self.issuer = issuer
        self.reason = 0
        self.actor = 0
        self.entryExpiresAt = 0
        self.revokedAt = 0
        self.tokenExpiresAtValue = .nan
    }

    /// A key to look an entry up with.
    static func probe(issuer: UInt32, jti: String) -> StoredToken {
        StoredToken(probeIssuer: issuer, jti: jti)
    }

    private var jtiLength: Int { Int(jtiField & ~Self.hasSubjectBit) }

    var jti: String { String(decoding: jtiBytes, as: UTF8.self) }

    var jtiBytes: ArraySlice<UInt8> { bytes[..<jtiLength] }

    var subject: String? {
        jtiField & Self.hasSubjectBit == 0 ? nil : String(decoding: bytes[jtiLength...], as: UTF8.self)
    }

    var tokenExpiresAt: Double? { tokenExpiresAtValue.isNaN ? nil : tokenExpiresAtValue }

    static func == (lhs: StoredToken, rhs: StoredToken) -> Bool {
        lhs.issuer == rhs.issuer && lhs.bytes[..<lhs.jtiLength].elementsEqual(rhs.bytes[..<rhs.jtiLength])
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(issuer)
        bytes.withUnsafeBytes { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0[..<jtiLength])) }
    }
}

/// Distinct strings (issuers, reasons, actors) numbered in order of appearance, compared byte for
/// byte as the store compares keys.
struct InternTable: Sendable {
    private var ids: [ByteString: UInt32] = [:]
    private var strings: [String] = []
    /// The last string interned: replay meets the same issuer, reason and actor record after record.
    private var last: (string: String, id: UInt32)?

    func id(of string: String) -> UInt32? {
        ids[ByteString(string)]
    }

    mutating func intern(_ string: String) -> UInt32 {
        if let last, last.string.utf8.elementsEqual(string.utf8) { return last.id }
        let id: UInt32
        if let known = ids[ByteString(string)] {
            id = known
        } else {
            id = UInt32(strings.count)
            strings.append(string)
            ids[ByteString(string)] = id
        }
        last = (string, id)
        return id
    }

    func string(_ id: UInt32) -> String {
        strings[Int(id)]
    }

    var count: Int { strings.count }
}

/// A string that is equal to another only with the same UTF-8 bytes (Swift's `==` on strings
/// would merge Unicode-equivalent spellings, which are different keys to the store).
struct ByteString: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
