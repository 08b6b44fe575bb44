import VetoCore
import VetoStore

/// The parts of a verified token the service answers with. Kept small: the verification cache
/// holds thousands of them.
struct VerifiedToken: Sendable {
    /// The configured issuer whose keys verified it.
    let origin: ConfiguredIssuer
    /// The jti, or `sha256:<hex>` of the token for issuers that identify jti-less tokens by digest.
    let revocationID: String
    let issuer: String
    let subject: String?
    /// The claims cut-offs match it by (sub, sid, azp/client_id, email), and the kid of the configured key
    /// that verified it: not the header's kid, which a token minted with a leaked key could leave out (every
    /// key is then a candidate) to slip past a cut-off of that key.
    let cutoffValues: CutoffValues
    let issuedAt: Double?
    let expiresAt: Double?
    /// Whether `revocationID` is the token's own jti.
    let hasJWTID: Bool
    /// The 200 answer, rendered once.
    let answer: AllowedAnswer
    private let claimsBox: ClaimsBox?

    init(origin: ConfiguredIssuer, revocationID: String, claims: JWTClaims, keyID: String?, answer: AllowedAnswer) {
        self.origin = origin
        self.revocationID = revocationID
        self.issuer = origin.name
        self.subject = claims.subject
        self.cutoffValues = CutoffValues(claims: claims, keyID: keyID)
        self.issuedAt = claims.issuedAt
        self.expiresAt = claims.expiresAt
        self.hasJWTID = claims.jwtID != nil
        self.answer = answer
        self.claimsBox = ClaimsBox(claims)
    }

    private init(_ token: VerifiedToken, claimsBox: ClaimsBox?) {
        self.origin = token.origin
        self.revocationID = token.revocationID
        self.issuer = token.issuer
        self.subject = token.subject
        self.cutoffValues = token.cutoffValues
        self.issuedAt = token.issuedAt
        self.expiresAt = token.expiresAt
        self.hasJWTID = token.hasJWTID
        self.answer = token.answer
        self.claimsBox = claimsBox
    }

    /// Every claim, for introspection; nil when the token came from the verification cache, which
    /// keeps only what a check answers with (the control plane never uses the cache).
    var claims: JWTClaims? { claimsBox?.claims }

    /// The same token without its claims: what the verification cache keeps.
    var withoutClaims: VerifiedToken { VerifiedToken(self, claimsBox: nil) }

    /// What the store is asked about it on every check.
    var revocationQuery: RevocationQuery {
        RevocationQuery(issuer: issuer, jti: revocationID, issuedAt: issuedAt, values: cutoffValues)
    }

    /// What the logs may say about it (the iss of a valid token is its issuer's).
    var facts: TokenFacts {
        TokenFacts(subject: subject, jwtID: hasJWTID ? revocationID : nil, expiresAt: expiresAt, issuer: issuer)
    }

    private final class ClaimsBox: Sendable {
        let claims: JWTClaims

        init(_ claims: JWTClaims) {
            self.claims = claims
        }
    }
}
