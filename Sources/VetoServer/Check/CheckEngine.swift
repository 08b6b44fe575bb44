import NIOCore
import VetoCore
import VetoStore

/// The decision behind `/v1/check`, shared by the data plane and the control plane (introspection).
///
/// It runs on the caller's event loop without a Task: validation is synchronous, and the
/// blocklist lookup (one round trip for jti and subject cut-off) and a rare rate-limited JWKS
/// refetch are futures.
final class CheckEngine: Sendable {
    let validator: TokenValidator
    let issuers: [IssuerRuntime]
    let blocklist: any Blocklist
    let failOpen: Bool
    let clock: @Sendable () -> Double
    let digest: @Sendable ([UInt8]) -> String

    init(issuers: [IssuerRuntime], policies: [IssuerPolicy], blocklist: any Blocklist, failOpen: Bool,
         clock: @escaping @Sendable () -> Double, digest: @escaping @Sendable ([UInt8]) -> String) {
        self.validator = TokenValidator(policies: policies)
        self.issuers = issuers
        self.blocklist = blocklist
        self.failOpen = failOpen
        self.clock = clock
        self.digest = digest
    }

    /// Validates without consulting the blocklist. Used by logout, which must accept a token
    /// that is already revoked (logging out twice is fine).
    func validate(_ token: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<ValidationReport> {
        let now = clock()
        let report = validator.validate(token, now: now) { self.issuers[$0].keys.current }
        guard !report.isValid, let index = report.policyIndex,
              report.failures.contains(where: { $0.code == .unknownKeyID }) else {
            return eventLoop.makeSucceededFuture(report)
        }
        // A kid we do not know may be a rotation: refetch (rate-limited, coalesced) and retry once.
        return issuers[index].keys.keysAfterUnknownKeyID(on: eventLoop).map { keys in
            self.validator.validate(token, now: now) { $0 == index ? keys : self.issuers[$0].keys.current }
        }
    }

    func check(_ token: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<CheckOutcome> {
        validate(token, on: eventLoop).flatMap { report in
            self.lookUpRevocation(report, token: token, on: eventLoop)
        }
    }

    /// The store identity of a verified token: its jti, or the SHA-256 of its signing input.
    ///
    /// - Important: Not of the whole token: an ECDSA signature (r, s) has a twin (r, n − s), so
    ///   hashing the signature would let a revoked jti-less ES* token come back with the twin.
    func revocationID(of report: ValidationReport) -> String? {
        guard let claims = report.claims, let jws = report.jws else { return nil }
        return claims.jwtID ?? "sha256:" + digest(Array(jws.signingInput))
    }

    private func lookUpRevocation(_ report: ValidationReport, token: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<CheckOutcome> {
        let facts = TokenFacts(report.claims)
        guard report.isValid, let claims = report.claims, let index = report.policyIndex else {
            let failure = report.failures.first ?? ValidationFailure(.malformedToken, .structure, "The token was refused.")
            return eventLoop.makeSucceededFuture(.denied(failure, facts))
        }
        let issuer = issuers[index].configuration.issuer
        let verified = VerifiedToken(issuerIndex: index, claims: claims, revocationID: revocationID(of: report) ?? "", issuer: issuer)
        return blocklist.status(issuer: issuer, jti: verified.revocationID, subject: claims.subject, issuedAt: claims.issuedAt, on: eventLoop)
            .map { status -> CheckOutcome in
                switch status {
                case .notRevoked:
                    return .allowed(verified, degraded: false)
                case let .tokenRevoked(entry):
                    return .denied(Self.revokedFailure(verified, entry), facts)
                case let .subjectRevoked(cutoff):
                    return .denied(Self.subjectFailure(claims, cutoff), facts)
                }
            }
            .recover { error in
                self.failOpen ? .allowed(verified, degraded: true) : .unavailable(reason: "\(error)", facts)
            }
    }

    static func revokedFailure(_ token: VerifiedToken, _ entry: RevocationEntry?) -> ValidationFailure {
        var message = "The token (jti \"\(token.revocationID)\") has been revoked"
        if let entry {
            message += " at \(UTCTime.iso8601(entry.revokedAt))"
            if !entry.reason.isEmpty { message += " (reason: \(entry.reason))" }
        }
        return ValidationFailure(.tokenRevoked, .revocation, message + ".", hint: "Sign in again to get a new token.")
    }

    static func subjectFailure(_ claims: JWTClaims, _ cutoff: SubjectCutoff) -> ValidationFailure {
        let issued = claims.issuedAt.map { "was issued at \(UTCTime.iso8601($0))" } ?? "has no iat, so it cannot prove it is newer"
        var message = "Every token of subject \"\(cutoff.subject)\" issued at or before \(UTCTime.iso8601(cutoff.cutoff)) was revoked"
        if !cutoff.reason.isEmpty { message += " (reason: \(cutoff.reason))" }
        return ValidationFailure(.subjectRevoked, .revocation, message + "; this token \(issued).", hint: "Sign in again to get a new token.")
    }
}
