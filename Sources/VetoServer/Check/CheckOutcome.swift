import VetoCore

/// What a check decided, before it becomes an HTTP answer.
enum CheckOutcome: Sendable {
    /// A valid, unrevoked token. `degraded` when the store was down and fail-open let it through.
    case allowed(VerifiedToken, degraded: Bool)
    /// Refused, with the first reason in checklist order and what is known of the token (for logs).
    case denied(ValidationFailure, TokenFacts)
    /// The blocklist could not be read; fail closed.
    case unavailable(reason: String, TokenFacts)
}
