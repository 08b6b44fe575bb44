import VetoCore

/// Settings shared by every ``Blocklist``.
package struct BlocklistConfiguration: Sendable, Equatable {
    /// Prepended to every Redis key (see KEYS.md); unused by the embedded store.
    package var keyPrefix: String
    /// Seconds a validator accepts a token past `exp`; entries outlive `exp` by this much.
    package var leeway: Double
    /// Lifetime assumed when `exp` is unknown, and how long a subject cut-off must keep outliving itself.
    package var maxTokenLifetime: Double
    /// Bound on the UTF-8 length of an issuer, jti or subject in a key. Longer ones are refused with
    /// `invalid_argument` (a store cannot hash them: VetoStore has no digest at hand).
    package var maxKeyComponentLength: Int

    package init(
        keyPrefix: String = "veto:",
        leeway: Double = 60,
        maxTokenLifetime: Double = 86_400,
        maxKeyComponentLength: Int = 512
    ) {
        self.keyPrefix = keyPrefix
        self.leeway = leeway
        self.maxTokenLifetime = maxTokenLifetime
        self.maxKeyComponentLength = maxKeyComponentLength
    }

    package var rules: RevocationRules {
        RevocationRules(leeway: leeway, maxTokenLifetime: maxTokenLifetime)
    }
}
