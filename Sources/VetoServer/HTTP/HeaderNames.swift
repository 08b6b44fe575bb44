import HTTPTypes

/// Every header name Veto itself sets, in one place.
extension HTTPField.Name {
    /// The verified identity an allow carries to the gateway (and on to the upstream).
    static let authSubject = HTTPField.Name("X-Auth-Subject")!
    static let authIssuer = HTTPField.Name("X-Auth-Issuer")!
    static let authJti = HTTPField.Name("X-Auth-Jti")!
    static let authExpires = HTTPField.Name("X-Auth-Expires")!
    /// The reason code of a refusal (`token_revoked`, …).
    static let vetoError = HTTPField.Name("X-Veto-Error")!
    /// Set on an allow let through by fail-open while the store was down.
    static let vetoDegraded = HTTPField.Name("X-Veto-Degraded")!
    /// Claim headers that were configured but could not be sent unaltered.
    static let vetoHeadersDropped = HTTPField.Name("X-Veto-Headers-Dropped")!
}
