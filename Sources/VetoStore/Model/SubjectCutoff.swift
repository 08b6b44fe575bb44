/// "Log this subject out everywhere": tokens of (issuer, subject) with `iat` at or before ``cutoff``,
/// or with no `iat`, are rejected. Times are unix seconds.
public struct SubjectCutoff: Sendable, Equatable {
    public var issuer: String
    public var subject: String
    public var cutoff: Double
    public var revokedAt: Double
    public var reason: String
    public var actor: String?
    /// `cutoff + maxTokenLifetime + leeway`: by then every token it rejects has expired anyway.
    public var entryExpiresAt: Double

    public init(
        issuer: String, subject: String, cutoff: Double, revokedAt: Double, reason: String, actor: String?,
        entryExpiresAt: Double
    ) {
        self.issuer = issuer
        self.subject = subject
        self.cutoff = cutoff
        self.revokedAt = revokedAt
        self.reason = reason
        self.actor = actor
        self.entryExpiresAt = entryExpiresAt
    }
}
