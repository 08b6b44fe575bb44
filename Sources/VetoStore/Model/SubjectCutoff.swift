/// "Log this subject out everywhere": tokens of (issuer, subject) with `iat` at or before ``cutoff``,
/// or with no `iat`, are rejected. Times are unix seconds.
package struct SubjectCutoff: Sendable, Equatable {
    package var issuer: String
    package var subject: String
    package var cutoff: Double
    package var revokedAt: Double
    package var reason: String
    package var actor: String?
    /// `cutoff + maxTokenLifetime + leeway`: by then every token it rejects has expired anyway.
    package var entryExpiresAt: Double

    package init(
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
