import CoreMetrics
import NIOCore
import VetoCore
import VetoStore

/// The decision behind `/v1/check`, shared by the data plane and the control plane (introspection).
///
/// It runs on the caller's event loop without a Task: validation is synchronous, and the
/// blocklist lookup (one round trip for jti and subject cut-off) and a rare rate-limited JWKS
/// refetch are futures. On a loop of the server's group, a verification cache (one per loop)
/// skips the signature and claims work for tokens verified recently; the blocklist is still
/// consulted on every check.
final class CheckEngine: Sendable {
    let validator: TokenValidator
    let issuers: [IssuerRuntime]
    let blocklist: any Blocklist
    let failOpen: Bool
    let clock: @Sendable () -> Double
    let digest: @Sendable ([UInt8]) -> String
    let caches: VerificationCaches
    /// SHA-256 of a whole token: the verification cache's key.
    let tokenDigest: @Sendable ([UInt8]) -> VerificationCache.Key
    let cacheHits: CoreMetrics.Counter?
    let cacheMisses: CoreMetrics.Counter?

    init(issuers: [IssuerRuntime], policies: [IssuerPolicy], blocklist: any Blocklist, failOpen: Bool,
         clock: @escaping @Sendable () -> Double, digest: @escaping @Sendable ([UInt8]) -> String,
         caches: VerificationCaches = .disabled,
         tokenDigest: @escaping @Sendable ([UInt8]) -> VerificationCache.Key = { _ in preconditionFailure("no token digest") },
         cacheHits: CoreMetrics.Counter? = nil, cacheMisses: CoreMetrics.Counter? = nil) {
        self.validator = TokenValidator(policies: policies)
        self.issuers = issuers
        self.blocklist = blocklist
        self.failOpen = failOpen
        self.clock = clock
        self.digest = digest
        self.caches = caches
        self.tokenDigest = tokenDigest
        self.cacheHits = cacheHits
        self.cacheMisses = cacheMisses
    }

    /// Validates without consulting the blocklist. Used by logout, which must accept a token
    /// that is already revoked (logging out twice is fine).
    func validate(_ token: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<ValidationReport> {
        let now = clock()
        let (report, _) = validateNow(token, now: now)
        guard let retry = refetchIndex(report) else { return eventLoop.makeSucceededFuture(report) }
        return revalidate(token, now: now, policyIndex: retry, on: eventLoop).map(\.report)
    }

    /// Validation with the keys in hand, and the generation of the key set that judged the token
    /// (for the verification cache).
    private func validateNow(_ token: [UInt8], now: Double) -> (report: ValidationReport, generation: UInt64) {
        var generation: UInt64 = 0
        let report = validator.validate(token, now: now) { index in
            let keys = self.issuers[index].keys.current
            generation = keys.generation
            return keys
        }
        return (report, generation)
    }

    /// The issuer whose keys to refetch before judging again: a kid we do not know may be a rotation.
    private func refetchIndex(_ report: ValidationReport) -> Int? {
        guard !report.isValid, let index = report.policyIndex,
              report.failures.contains(where: { $0.code == .unknownKeyID }) else { return nil }
        return index
    }

    /// Validates once more after a (rate-limited, coalesced) refetch of one issuer's keys.
    private func revalidate(_ token: [UInt8], now: Double, policyIndex index: Int, on eventLoop: any EventLoop)
        -> EventLoopFuture<(report: ValidationReport, generation: UInt64)> {
        issuers[index].keys.keysAfterUnknownKeyID(on: eventLoop).map { keys in
            let report = self.validator.validate(token, now: now) { $0 == index ? keys : self.issuers[$0].keys.current }
            return (report, keys.generation)
        }
    }

    func check(_ token: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<CheckOutcome> {
        let now = clock()
        let cache = caches.cache(for: eventLoop)
        var key: VerificationCache.Key?
        if let cache {
            let digest = tokenDigest(token)
            if let verified = cache.lookup(digest, now: now, generation: { self.issuers[$0].keys.current.generation }) {
                cacheHits?.increment()
                return lookUpRevocation(verified, on: eventLoop)
            }
            cacheMisses?.increment()
            key = digest
        }
        let (report, generation) = validateNow(token, now: now)
        guard let retry = refetchIndex(report) else {
            return decide(report, generation: generation, key: key, cache: cache, on: eventLoop)
        }
        return revalidate(token, now: now, policyIndex: retry, on: eventLoop).flatMap { report, generation in
            self.decide(report, generation: generation, key: key, cache: cache, on: eventLoop)
        }
    }

    /// Caches a valid token (only with an expiry, never past exp + leeway) and looks up its revocation.
    private func decide(_ report: ValidationReport, generation: UInt64, key: VerificationCache.Key?, cache: VerificationCache?,
                        on eventLoop: any EventLoop) -> EventLoopFuture<CheckOutcome> {
        guard let verified = verifiedToken(report) else {
            let failure = report.failures.first ?? ValidationFailure(.malformedToken, .structure, "The token was refused.")
            return eventLoop.makeSucceededFuture(.denied(failure, TokenFacts(report.claims)))
        }
        if let cache, let key, let exp = verified.claims.expiresAt, let policy = report.policy {
            cache.insert(key, token: verified, validUntil: exp + policy.leeway, keyGeneration: generation)
        }
        return lookUpRevocation(verified, on: eventLoop)
    }

    /// The store identity of a verified token: its jti, or the SHA-256 of its signing input.
    ///
    /// - Important: Not of the whole token: an ECDSA signature (r, s) has a twin (r, n − s), so
    ///   hashing the signature would let a revoked jti-less ES* token come back with the twin.
    func revocationID(of report: ValidationReport) -> String? {
        guard let claims = report.claims, let jws = report.jws else { return nil }
        return claims.jwtID ?? "sha256:" + digest(Array(jws.signingInput))
    }

    /// The parts of a valid token the answer needs; nil for a refused one.
    private func verifiedToken(_ report: ValidationReport) -> VerifiedToken? {
        guard report.isValid, let claims = report.claims, let index = report.policyIndex else { return nil }
        return VerifiedToken(issuerIndex: index, claims: claims, revocationID: revocationID(of: report) ?? "",
                             issuer: issuers[index].configuration.issuer)
    }

    private func lookUpRevocation(_ verified: VerifiedToken, on eventLoop: any EventLoop) -> EventLoopFuture<CheckOutcome> {
        let claims = verified.claims
        let promise = eventLoop.makePromise(of: CheckOutcome.self)
        blocklist.status(issuer: verified.issuer, jti: verified.revocationID, subject: claims.subject, issuedAt: claims.issuedAt, on: eventLoop)
            .whenComplete { result in
                switch result {
                case .success(.notRevoked):
                    promise.succeed(.allowed(verified, degraded: false))
                case let .success(.tokenRevoked(entry)):
                    promise.succeed(.denied(Self.revokedFailure(verified, entry), TokenFacts(claims)))
                case let .success(.subjectRevoked(cutoff)):
                    promise.succeed(.denied(Self.subjectFailure(claims, cutoff), TokenFacts(claims)))
                case let .failure(error):
                    promise.succeed(self.failOpen ? .allowed(verified, degraded: true) : .unavailable(reason: "\(error)", TokenFacts(claims)))
                }
            }
        return promise.futureResult
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
