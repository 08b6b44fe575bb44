/// The line of the verification checklist a failure belongs to.
package enum ValidationCheck: String, Sendable, CaseIterable, Hashable {
    case structure, algorithm, key, signature
    case expiry = "exp", notBefore = "nbf", issuedAt = "iat"
    case issuer = "iss", audience = "aud", type = "typ"
    case requiredClaims = "required claims", lifetime
    case revocation
}
