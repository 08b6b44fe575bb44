import VetoCore

/// Which configured issuers a receiver's signals may cut tokens off for.
package struct SubjectScope: Sendable {
    /// Every configured issuer (`issuers[]`): the only issuers an `iss_sub` subject may name.
    package let configuredIssuers: [String]
    /// `token_issuers`: where opaque and email subjects apply. Empty when the transmitter's own issuer
    /// is not a configured issuer and none were given: such subjects are then refused, never stored
    /// under an issuer no token comes from.
    package let tokenIssuers: [String]

    package init(configuredIssuers: [String], tokenIssuers: [String]) {
        self.configuredIssuers = configuredIssuers
        self.tokenIssuers = tokenIssuers
    }
}

/// Event and subject → cut-offs (contract §4). Pure.
package enum EventEffects {
    /// The cut-offs `event` asks for about `subject`, each starting at `at`.
    /// - Throws: `subject_unsupported` when the subject cannot be matched exactly within `scope`.
    package static func effects(
        of event: SignalEvent, subject: SubjectIdentifier, at: Double, scope: SubjectScope, createdBy: String
    ) throws(SignalRefusal) -> [SignalEffect] {
        switch event.effect {
        case .none:
            return []
        case .user:
            return try user(subject, at: at, scope: scope, createdBy: createdBy)
        case .session:
            guard case let .complex(user, session?) = subject else { return try self.user(subject, at: at, scope: scope, createdBy: createdBy) }
            let issuers: [String]
            if case let .issuerSubject(issuer, _)? = user {
                issuers = [try configured(issuer, scope: scope)]
            } else {
                issuers = try tokenIssuers(scope, for: "a session")
            }
            return issuers.map { SignalEffect(tokenIssuer: $0, kind: .session, value: session, at: at, createdBy: createdBy) }
        }
    }

    /// The user's cut-off: `sub` for iss_sub and opaque subjects, `email` for email subjects.
    private static func user(_ subject: SubjectIdentifier, at: Double, scope: SubjectScope, createdBy: String) throws(SignalRefusal) -> [SignalEffect]
    {
        switch subject {
        case let .issuerSubject(issuer, sub):
            return [SignalEffect(tokenIssuer: try configured(issuer, scope: scope), kind: .subject, value: sub, at: at, createdBy: createdBy)]
        case let .opaque(id):
            return try tokenIssuers(scope, for: "an opaque subject").map {
                SignalEffect(tokenIssuer: $0, kind: .subject, value: id, at: at, createdBy: createdBy)
            }
        case let .email(address):
            return try tokenIssuers(scope, for: "an email subject").map {
                SignalEffect(tokenIssuer: $0, kind: .email, value: address, at: at, createdBy: createdBy)
            }
        case let .complex(user?, _):
            return try self.user(user, at: at, scope: scope, createdBy: createdBy)
        case .complex(nil, _):
            throw SignalRefusal(.subjectUnsupported, "The complex subject names a session but no user, and this event cuts off a user.")
        }
    }

    /// An `iss_sub` subject's issuer, if it is one of this receiver's `token_issuers` (byte for byte): a
    /// transmitter cuts off users only of the issuers it was configured for, not of every issuer Veto
    /// checks (one tenant's transmitter must not log out another tenant's users).
    private static func configured(_ issuer: String, scope: SubjectScope) throws(SignalRefusal) -> String {
        guard let match = scope.tokenIssuers.first(where: { $0.hasSameBytes(as: issuer) }) else {
            let configured = scope.configuredIssuers.contains { $0.hasSameBytes(as: issuer) }
            throw SignalRefusal(
                .subjectUnsupported,
                configured
                    ? "The subject's iss \(JSONWriter.quoted(issuer)) is a configured issuer but not one of this transmitter's token_issuers."
                    : "The subject's iss \(JSONWriter.quoted(issuer)) is not a configured issuer, so no token of it is checked here.")
        }
        return match
    }

    private static func tokenIssuers(_ scope: SubjectScope, for what: String) throws(SignalRefusal) -> [String] {
        guard !scope.tokenIssuers.isEmpty else {
            throw SignalRefusal(
                .subjectUnsupported,
                "This receiver has no token issuers for \(what): its transmitter is not a configured issuer and token_issuers is not set.")
        }
        return scope.tokenIssuers
    }
}
