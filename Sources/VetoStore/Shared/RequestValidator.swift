import VetoCore

/// Checks requests and turns them into the entries both stores write, so both apply the same rules.
struct RequestValidator: Sendable {
    let configuration: BlocklistConfiguration
    /// Bound on free text (reason, actor) so a value cannot grow without limit.
    static let maxTextLength = 1024

    /// The entry a revocation asks for, before merging with an existing one.
    /// - Parameter rules: the rules to size the entry with, when they differ from the configuration's
    ///   (a Redis store takes the larger of its own and the published ones).
    func entry(for request: RevocationRequest, now: Double, rules: RevocationRules? = nil) throws(StoreError) -> RevocationEntry {
        let rules = rules ?? configuration.rules
        try checkKey(request.issuer, "issuer", allowEmpty: true)
        try checkKey(request.jti, "jti", allowEmpty: false)
        if let subject = request.subject { try checkText(subject, "sub") }
        try checkText(request.reason, "reason")
        if let actor = request.actor { try checkText(actor, "actor") }
        if let exp = request.tokenExpiresAt { try checkTime(exp, "exp") }
        let revokedAt = try milliseconds(request.revokedAt ?? now, "revoked_at")
        return RevocationEntry(
            issuer: request.issuer, jti: request.jti, subject: request.subject, tokenExpiresAt: request.tokenExpiresAt.map(milliseconds),
            revokedAt: revokedAt, reason: request.reason, actor: request.actor,
            // Up to the millisecond the stores keep, never down: an entry must not end early.
            entryExpiresAt: (rules.entryExpiry(tokenExpiresAt: request.tokenExpiresAt, now: now) * 1000).rounded(.up) / 1000
        )
    }

    /// The cut-off a request asks for, before merging with an existing one.
    func cutoff(for request: CutoffRequest, now: Double, rules: RevocationRules? = nil) throws(StoreError) -> Cutoff {
        let rules = rules ?? configuration.rules
        try checkKey(request.issuer, "issuer", allowEmpty: true)
        if request.kind == .issuer {
            guard request.value.isEmpty else {
                throw StoreError(.invalidArgument, "an issuer cut-off has no value (it covers every token of the issuer)")
            }
        } else {
            try checkKey(request.value, request.kind.rawValue, allowEmpty: false)
        }
        try checkText(request.reason, "reason")
        if let actor = request.actor { try checkText(actor, "actor") }
        try checkText(request.createdBy, "created_by")
        let cutoff = try milliseconds(request.before ?? now, "before")
        return Cutoff(
            issuer: request.issuer, kind: request.kind, value: request.kind.stored(request.value), cutoff: cutoff, revokedAt: milliseconds(now),
            reason: request.reason, actor: request.actor, createdBy: request.createdBy, entryExpiresAt: rules.cutoffExpiry(cutoff: cutoff)
        )
    }

    /// Whether a key component can be stored at all; checks skip lookups of ones that cannot.
    func isStorable(_ component: String) -> Bool {
        component.utf8.count <= configuration.maxKeyComponentLength
    }

    func checkKey(_ value: String, _ name: String, allowEmpty: Bool) throws(StoreError) {
        guard allowEmpty || !value.isEmpty else {
            throw StoreError(.invalidArgument, "\(name) must not be empty")
        }
        guard isStorable(value) else {
            throw StoreError(
                .invalidArgument,
                "\(name) is \(value.utf8.count) bytes long; the blocklist stores at most \(configuration.maxKeyComponentLength)"
            )
        }
    }

    private func checkText(_ value: String, _ name: String) throws(StoreError) {
        guard value.utf8.count <= Self.maxTextLength else {
            throw StoreError(.invalidArgument, "\(name) is \(value.utf8.count) bytes long; at most \(Self.maxTextLength) are stored")
        }
    }

    private func checkTime(_ value: Double, _ name: String) throws(StoreError) {
        guard value.isFinite, abs(value) <= RevocationRules.latestExpiry else {
            throw StoreError(.invalidArgument, "\(name) \(value) is not a time between year 0 and 9999")
        }
    }

    private func milliseconds(_ value: Double, _ name: String) throws(StoreError) -> Double {
        try checkTime(value, name)
        return milliseconds(value)
    }

    private func milliseconds(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}
