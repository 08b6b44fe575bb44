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
    /// Budget for the identity headers of an allowed answer.
    let identityHeaderBudget: Int

    init(issuers: [IssuerRuntime], policies: [IssuerPolicy], blocklist: any Blocklist, failOpen: Bool,
         clock: @escaping @Sendable () -> Double, digest: @escaping @Sendable ([UInt8]) -> String,
         caches: VerificationCaches = .disabled,
         tokenDigest: @escaping @Sendable ([UInt8]) -> VerificationCache.Key = { _ in preconditionFailure("no token digest") },
         cacheHits: CoreMetrics.Counter? = nil, cacheMisses: CoreMetrics.Counter? = nil, identityHeaderBudget: Int = Limits().identityHeaderBytes) {
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
        self.identityHeaderBudget = identityHeaderBudget
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

    /// - Parameter useCache: false where every claim is needed (introspection): a cached token keeps only
    ///   what a check answers with.
    func check(_ token: [UInt8], on eventLoop: any EventLoop, useCache: Bool = true) -> EventLoopFuture<CheckOutcome> {
        let promise = eventLoop.makePromise(of: CheckOutcome.self)
        check(token, on: eventLoop, useCache: useCache) { promise.succeed($0) }
        return promise.futureResult
    }

    /// The check with a callback instead of a future, for the data plane: every future on this path
    /// costs more than a cache hit.
    /// - Parameter then: called once, on `eventLoop`.
    func check(_ token: [UInt8], on eventLoop: any EventLoop, useCache: Bool = true, then: @escaping @Sendable (CheckOutcome) -> Void) {
        let now = clock()
        let cache = useCache ? caches.cache(for: eventLoop) : nil
        let key = cache.map { _ in tokenDigest(token) }
        if let cache, let key {
            if let verified = cache.lookup(key, now: now, generation: { self.issuers[$0].keys.current.generation }) {
                cacheHits?.increment()
                lookUpRevocation(verified, on: eventLoop, then: then)
                return
            }
            cacheMisses?.increment()
        }
        let (report, generation) = validateNow(token, now: now)
        guard let retry = refetchIndex(report) else {
            decide(report, generation: generation, key: key, cache: cache, on: eventLoop, then: then)
            return
        }
        revalidate(token, now: now, policyIndex: retry, on: eventLoop).whenComplete { result in
            switch result {
            case let .success((report, generation)):
                self.decide(report, generation: generation, key: key, cache: cache, on: eventLoop, then: then)
            case .failure:
                // keysAfterUnknownKeyID never fails; if it did, the first verdict stands.
                self.decide(report, generation: generation, key: key, cache: cache, on: eventLoop, then: then)
            }
        }
    }

    /// Caches a valid token (only with an expiry, never past exp + leeway) and looks up its revocation.
    private func decide(_ report: ValidationReport, generation: UInt64, key: VerificationCache.Key?, cache: VerificationCache?,
                        on eventLoop: any EventLoop, then: @escaping @Sendable (CheckOutcome) -> Void) {
        guard let verified = verifiedToken(report) else {
            let failure = report.failures.first ?? ValidationFailure(.malformedToken, .structure, "The token was refused.")
            then(.denied(failure, TokenFacts(report.claims)))
            return
        }
        if let failure = Self.unfaithfulIdentity(verified) {
            then(.denied(failure, verified.facts))
            return
        }
        if let cache, let key, let exp = verified.expiresAt, let policy = report.policy {
            cache.insert(key, token: verified.withoutClaims, validUntil: exp + policy.leeway, keyGeneration: generation)
        }
        lookUpRevocation(verified, on: eventLoop, then: then)
    }

    /// A refusal when `sub` or `jti` cannot travel in `X-Auth-Subject` / `X-Auth-Jti` byte for byte
    /// (leading or trailing blanks, control characters). Headers would show them altered: `"admin "`
    /// would reach the upstream as `admin`, while cut-offs and revocations compare the real bytes.
    static func unfaithfulIdentity(_ token: VerifiedToken) -> ValidationFailure? {
        func refusal(_ name: String) -> ValidationFailure {
            ValidationFailure(
                .malformedClaim, .requiredClaims,
                "The \"\(name)\" claim has leading or trailing blanks or control characters, so it cannot be passed on in a header unaltered.",
                hint: "Identifiers with invisible characters are a bug in the issuer, or an attempt to impersonate another \(name).")
        }
        if let subject = token.subject, !WireResponse.isLegalValue(subject) { return refusal("sub") }
        if !WireResponse.isLegalValue(token.revocationID) { return refusal("jti") }
        return nil
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
        let issuer = issuers[index].configuration.issuer
        let revocationID = revocationID(of: report) ?? ""
        return VerifiedToken(issuerIndex: index, revocationID: revocationID, issuer: issuer, claims: claims,
                             answer: AllowedAnswer(issuer: issuer, revocationID: revocationID, claims: claims,
                                                   claimHeaders: issuers[index].claimHeaders, budget: identityHeaderBudget,
                                                   allocator: Self.allocator))
    }

    private func lookUpRevocation(_ verified: VerifiedToken, on eventLoop: any EventLoop, then: @escaping @Sendable (CheckOutcome) -> Void) {
        let failOpen = self.failOpen
        blocklist.status(issuer: verified.issuer, jti: verified.revocationID, subject: verified.subject, issuedAt: verified.issuedAt,
                         on: eventLoop) { result in
            switch result {
            case .success(.notRevoked):
                if let expired = self.expiredDuringLookup(verified) { return then(expired) }
                then(.allowed(verified, degraded: false))
            case let .success(.tokenRevoked(entry)):
                then(.denied(Self.revokedFailure(verified, entry), verified.facts))
            case let .success(.subjectRevoked(cutoff)):
                then(.denied(Self.subjectFailure(issuedAt: verified.issuedAt, cutoff), verified.facts))
            case let .failure(error):
                guard failOpen else { return then(.unavailable(reason: "\(error)", verified.facts)) }
                if let expired = self.expiredDuringLookup(verified) { return then(expired) }
                then(.allowed(verified, degraded: true))
            }
        }
    }

    /// A refusal when the token's last valid instant (exp + leeway) passed while the store was asked.
    /// Every rule outlives exp + leeway of the tokens it covers, so an entry may have expired in the
    /// meantime (a slow Redis): "not revoked" then proves nothing, and fail-open must not let it through.
    private func expiredDuringLookup(_ verified: VerifiedToken) -> CheckOutcome? {
        guard let exp = verified.expiresAt, clock() >= exp + issuers[verified.issuerIndex].configuration.leeway else { return nil }
        return .denied(ValidationFailure(.tokenExpired, .expiry,
                                         "The token expired at \(UTCTime.iso8601(exp)) (with leeway) while its revocation was being looked up.",
                                         hint: "Get a fresh token (refresh it)."), verified.facts)
    }

    static func revokedFailure(_ token: VerifiedToken, _ entry: RevocationEntry?) -> ValidationFailure {
        var message = "The token (jti \"\(token.revocationID)\") has been revoked"
        if let entry {
            message += " at \(UTCTime.iso8601(entry.revokedAt))"
            if !entry.reason.isEmpty { message += " (reason: \(entry.reason))" }
        }
        return ValidationFailure(.tokenRevoked, .revocation, message + ".", hint: "Sign in again to get a new token.")
    }

    static func subjectFailure(issuedAt: Double?, _ cutoff: SubjectCutoff) -> ValidationFailure {
        let issued = issuedAt.map { "was issued at \(UTCTime.iso8601($0))" } ?? "has no iat, so it cannot prove it is newer"
        var message = "Every token of subject \"\(cutoff.subject)\" issued at or before \(UTCTime.iso8601(cutoff.cutoff)) was revoked"
        if !cutoff.reason.isEmpty { message += " (reason: \(cutoff.reason))" }
        return ValidationFailure(.subjectRevoked, .revocation, message + "; this token \(issued).", hint: "Sign in again to get a new token.")
    }

    private static let allocator = ByteBufferAllocator()
}
