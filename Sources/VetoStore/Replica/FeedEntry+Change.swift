/// A feed entry read as the blocklist change it records, for people (`veto blocklist watch`).
package enum FeedChange: Sendable, Equatable {
    case revoke(RevocationEntry)
    case revokeSubject(SubjectCutoff)
    case remove(issuer: String, jti: String)
    case removeSubject(issuer: String, subject: String)
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
        switch (kind, operation) {
        case (.token, .delete): return .remove(issuer: issuer, jti: id)
        case (.subject, .delete): return .removeSubject(issuer: issuer, subject: id)
        case (.token, .set(let value, _)):
            return EntryJSON.entry(value).map(FeedChange.revoke) ?? .unreadable(key: shownKey, problem: "value is not an entry")
        case (.subject, .set(let value, _)):
            return EntryJSON.cutoff(value).map(FeedChange.revokeSubject) ?? .unreadable(key: shownKey, problem: "value is not a cut-off")
        case (_, .unreadable(let problem)): return .unreadable(key: shownKey, problem: problem)
        }
    }
}
