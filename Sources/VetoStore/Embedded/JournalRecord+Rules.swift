import VetoCore

extension JournalRecord {
    /// The record with its entry's life stretched to what `rules` require, never shortened.
    ///
    /// A journal may hold entries written by `veto blocklist add` with a shorter `--leeway` or
    /// `--max-token-lifetime` than the service that loads it (security finding 15): the service's
    /// rules decide at load time, from the entry's own `exp`, revocation time or cut-off.
    func stretched(to rules: RevocationRules) -> JournalRecord {
        switch self {
        case var .revoke(entry):
            let wanted = rules.entryExpiry(tokenExpiresAt: entry.tokenExpiresAt, now: entry.revokedAt)
            entry.entryExpiresAt = RevocationRules.mergedExpiry(existing: entry.entryExpiresAt, requested: wanted)
            return .revoke(entry)
        case var .cutoff(cutoff):
            cutoff.entryExpiresAt = RevocationRules.mergedExpiry(
                existing: cutoff.entryExpiresAt, requested: rules.cutoffExpiry(cutoff: cutoff.cutoff))
            return .cutoff(cutoff)
        case .remove, .removeCutoff:
            return self
        }
    }
}
