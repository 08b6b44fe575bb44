/// One cut-off a signal asks for: every token of `tokenIssuer` whose `kind` claim is `value` and whose
/// `iat` is at or before `at` is refused from now on.
package struct SignalEffect: Sendable, Equatable, CustomStringConvertible {
    /// Which claim the cut-off matches (contract §1: `CutoffKind`'s `sub`, `sid` and `email`).
    package enum Kind: String, Sendable, CaseIterable {
        case subject = "sub"
        case session = "sid"
        /// Weaker than `sub`: an address can be reassigned, and only tokens that carry `email` match.
        case email = "email"
    }

    /// The configured issuer whose tokens the cut-off covers (not the transmitter's issuer).
    package var tokenIssuer: String
    package var kind: Kind
    package var value: String
    /// Unix seconds.
    package var at: Double
    /// `backchannel_logout` or `ssf:<transmitter issuer>`, from configuration, never from the token.
    package var createdBy: String

    package init(tokenIssuer: String, kind: Kind, value: String, at: Double, createdBy: String) {
        self.tokenIssuer = tokenIssuer
        self.kind = kind
        self.value = value
        self.at = at
        self.createdBy = createdBy
    }

    package var description: String { "\(kind.rawValue) cut-off for \(tokenIssuer)" }
}

/// Where signal effects are stored. Implementations acknowledge only what the store has.
package protocol SignalEffects: Sendable {
    /// Stores the cut-off. A cut-off never moves backwards, so applying one twice is harmless.
    /// - Throws: `SignalEffectError`.
    func apply(_ effect: SignalEffect) async throws(SignalEffectError)
}

/// Why an effect was not stored.
package enum SignalEffectError: Error, Sendable, Equatable {
    /// The store is down, timed out or overloaded: the sender should retry (503, or no ack on poll).
    case unavailable(String)
    /// The store refuses this effect itself (a value it cannot hold): retrying cannot help.
    case rejected(String)
}
