import VetoCore

/// "Refuse every token of this issuer whose `kind` claim is `value`, issued up to ``cutoff``": a user logged
/// out everywhere, a session ended at the identity provider, a leaked key, a compromised client, a whole
/// issuer. Tokens with `iat` at or before ``cutoff``, or without `iat`, are refused. Times are unix seconds.
package struct Cutoff: Sendable, Equatable {
    package var issuer: String
    package var kind: CutoffKind
    /// The claim value it matches; empty for ``CutoffKind/issuer``.
    package var value: String
    package var cutoff: Double
    package var revokedAt: Double
    package var reason: String
    package var actor: String?
    /// Which signal made it: `admin`, `cli`, `backchannel_logout`, `ssf:<transmitter>`; nil for rules
    /// stored before Veto recorded it.
    package var createdBy: String?
    /// `cutoff + maxTokenLifetime + leeway`: by then every token it rejects has expired anyway.
    package var entryExpiresAt: Double

    package init(
        issuer: String, kind: CutoffKind = .subject, value: String, cutoff: Double, revokedAt: Double, reason: String,
        actor: String?, createdBy: String? = nil, entryExpiresAt: Double
    ) {
        self.issuer = issuer
        self.kind = kind
        self.value = value
        self.cutoff = cutoff
        self.revokedAt = revokedAt
        self.reason = reason
        self.actor = actor
        self.createdBy = createdBy
        self.entryExpiresAt = entryExpiresAt
    }
}

/// What to cut off: every token of (issuer, kind, value) issued up to ``before``.
package struct CutoffRequest: Sendable, Equatable {
    package var issuer: String
    package var kind: CutoffKind
    /// Empty for ``CutoffKind/issuer``.
    package var value: String
    /// Tokens with `iat` at or before this are rejected; defaults to now.
    package var before: Double?
    package var reason: String
    package var actor: String?
    /// `admin`, `cli`, `backchannel_logout`, `ssf:<transmitter issuer>`.
    package var createdBy: String

    package init(
        issuer: String, kind: CutoffKind, value: String, before: Double? = nil, reason: String = "cut off", actor: String? = nil,
        createdBy: String
    ) {
        self.issuer = issuer
        self.kind = kind
        self.value = value
        self.before = before
        self.reason = reason
        self.actor = actor
        self.createdBy = createdBy
    }
}
