import VetoCore

/// A feed entry read as the blocklist change it records, for people (`veto blocklist watch`).
package enum FeedChange: Sendable, Equatable {
    case revoke(RevocationEntry)
    case cutoff(Cutoff)
    case remove(issuer: String, jti: String)
    case removeCutoff(issuer: String, kind: CutoffKind, value: String)
    /// Not a change Veto writes: `key` as text, and what is wrong with it.
    case unreadable(key: String, problem: String)
}

extension FeedEntry {
    /// The change this entry records, with `keyPrefix` the blocklist's key prefix.
    package func change(keyPrefix: String) -> FeedChange {
        let shownKey = String(decoding: key, as: UTF8.self)
        if case .unreadable(let problem) = operation { return .unreadable(key: "-", problem: problem) }
        guard let (kind, issuer, id) = BlocklistKeys(prefix: keyPrefix).parse(key) else {
            return .unreadable(key: shownKey, problem: "not a blocklist key")
        }
        switch (kind.cutoffKind, operation) {
        case (nil, .delete): return .remove(issuer: issuer, jti: id)
        case (let cutoffKind?, .delete): return .removeCutoff(issuer: issuer, kind: cutoffKind, value: id)
        case (nil, .set(let value, _)):
            return EntryJSON.entry(value).map(FeedChange.revoke) ?? .unreadable(key: shownKey, problem: "value is not an entry")
        case (let cutoffKind?, .set(let value, _)):
            guard var cutoff = EntryJSON.cutoff(value) else { return .unreadable(key: shownKey, problem: "value is not a cut-off") }
            (cutoff.issuer, cutoff.kind, cutoff.value) = (issuer, cutoffKind, id)
            return .cutoff(cutoff)
        case (_, .unreadable(let problem)): return .unreadable(key: shownKey, problem: problem)
        }
    }
}
