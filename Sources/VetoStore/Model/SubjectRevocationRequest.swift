/// What to cut off: every token of (issuer, subject) issued up to ``cutoff``.
public struct SubjectRevocationRequest: Sendable, Equatable {
    public var issuer: String
    public var subject: String
    /// Tokens with `iat` at or before this are rejected; defaults to now.
    public var cutoff: Double?
    public var reason: String
    public var actor: String?

    public init(issuer: String, subject: String, cutoff: Double? = nil, reason: String = "subject revoked", actor: String? = nil) {
        self.issuer = issuer
        self.subject = subject
        self.cutoff = cutoff
        self.reason = reason
        self.actor = actor
    }
}
