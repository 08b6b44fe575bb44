import VetoCore

/// The embedded store's entries in memory. Expired entries stay until ``dropExpired(now:)``; every
/// read skips them.
struct EmbeddedState: Sendable {
    private(set) var tokens = [EntryKey: RevocationEntry]()
    private(set) var subjects = [EntryKey: SubjectCutoff]()

    var count: Int { tokens.count + subjects.count }

    func token(_ key: EntryKey, now: Double) -> RevocationEntry? {
        guard let entry = tokens[key], !RevocationRules.isExpired(entry.entryExpiresAt, now: now) else { return nil }
        return entry
    }

    func subject(_ key: EntryKey, now: Double) -> SubjectCutoff? {
        guard let cutoff = subjects[key], !RevocationRules.isExpired(cutoff.entryExpiresAt, now: now) else { return nil }
        return cutoff
    }

    mutating func apply(_ record: JournalRecord) {
        switch record {
        case .revoke(let entry):
            tokens[EntryKey(issuer: entry.issuer, id: entry.jti)] = entry
        case .revokeSubject(let cutoff):
            subjects[EntryKey(issuer: cutoff.issuer, id: cutoff.subject)] = cutoff
        case .remove(let issuer, let jti):
            tokens[EntryKey(issuer: issuer, id: jti)] = nil
        case .removeSubject(let issuer, let subject):
            subjects[EntryKey(issuer: issuer, id: subject)] = nil
        }
    }

    mutating func dropExpired(now: Double) {
        tokens = tokens.filter { !RevocationRules.isExpired($0.value.entryExpiresAt, now: now) }
        subjects = subjects.filter { !RevocationRules.isExpired($0.value.entryExpiresAt, now: now) }
    }

    /// The records that rebuild every live entry: the content of a compacted journal.
    func liveRecords(now: Double) -> [JournalRecord] {
        tokens.values.filter { !RevocationRules.isExpired($0.entryExpiresAt, now: now) }.map(JournalRecord.revoke)
            + subjects.values.filter { !RevocationRules.isExpired($0.entryExpiresAt, now: now) }.map(JournalRecord.revokeSubject)
    }
}
