import VetoCore

/// What to cut off: every token of (issuer, subject) issued up to ``cutoff``. The subject form of
/// ``CutoffRequest`` (`/v1/admin/subjects`, `veto blocklist revoke-subject`).
package struct SubjectRevocationRequest: Sendable, Equatable {
    package var issuer: String
    package var subject: String
    /// Tokens with `iat` at or before this are rejected; defaults to now.
    package var cutoff: Double?
    package var reason: String
    package var actor: String?
    package var createdBy: String

    package init(
        issuer: String, subject: String, cutoff: Double? = nil, reason: String = "subject revoked", actor: String? = nil,
        createdBy: String = "admin"
    ) {
        self.issuer = issuer
        self.subject = subject
        self.cutoff = cutoff
        self.reason = reason
        self.actor = actor
        self.createdBy = createdBy
    }

    package var cutoffRequest: CutoffRequest {
        CutoffRequest(issuer: issuer, kind: .subject, value: subject, before: cutoff, reason: reason, actor: actor, createdBy: createdBy)
    }
}
