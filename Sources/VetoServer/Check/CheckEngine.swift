import CoreMetrics
import NIOCore
import VetoCore
import VetoStore

/// The decision behind `/v1/check`, shared by the data plane and the control plane (introspection).
///
/// It runs on the caller's event loop without a Task: validation is synchronous, and the
/// blocklist lookup (one round trip for the jti and every cut-off that could match) and a rare rate-limited JWKS
/// refetch are futures. On a loop of the server's group, a verification cache (one per loop)
/// skips the signature and claims work for tokens verified recently; the blocklist is still
/// consulted on every check.
final class CheckEngine: Sendable {
    /// What the engine is built from (VetoService assembles it; tests build their own).
    struct Dependencies: Sendable {
        var issuers: [ConfiguredIssuer]
        var blocklist: any Blocklist
        /// Let tokens through (flagged degraded) when the store cannot be read.
        var failOpen = false
        var clock: @Sendable () -> Double
        /// SHA-256 in hex, for the revocation id of a jti-less token.
        var digest: @Sendable ([UInt8]) -> String
        var caches: VerificationCaches = .disabled
        /// SHA-256 of a whole token: the verification cache's key.
        var tokenDigest: @Sendable ([UInt8]) -> VerificationCache.Key = { _ in preconditionFailure("no token digest") }
        var cacheHits: CoreMetrics.Counter?
        var cacheMisses: CoreMetrics.Counter?
        /// Budget for the identity headers of an allowed answer.
        var identityHeaderBudget = Limits().identityHeaderBytes

        init(
            issuers: [ConfiguredIssuer], blocklist: any Blocklist, clock: @escaping @Sendable () -> Double,
            digest: @escaping @Sendable ([UInt8]) -> String
        ) {
            self.issuers = issuers
            self.blocklist = blocklist
            self.clock = clock
            self.digest = digest
        }
    }

    /// A report names the configured issuer that judged the token.
    typealias Report = ValidationReport<ConfiguredIssuer>

    let validator: TokenValidator<ConfiguredIssuer>
    let blocklist: any Blocklist
    private let dependencies: Dependencies

    var issuers: [ConfiguredIssuer] { validator.issuers }

    init(_ dependencies: Dependencies) {
        self.validator = TokenValidator(issuers: dependencies.issuers)
        self.blocklist = dependencies.blocklist
        self.dependencies = dependencies
    }

    /// The engine's wall clock (seconds since 1970), for answers that depend on the time (cache hints).
    var clock: @Sendable () -> Double { dependencies.clock }

    /// Validates without consulting the blocklist. Used by logout, which must accept a token
    /// that is already revoked (logging out twice is fine).
    func validate(_ token: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<Report> {
        let now = clock()
        let report = validator.validate(token, now: now)
        guard let retry = refetchIssuer(report) else { return eventLoop.makeSucceededFuture(report) }
        return revalidate(token, now: now, issuer: retry, on: eventLoop)
    }

    /// The issuer whose keys to refetch before judging again: a kid we do not know may be a rotation.
    private func refetchIssuer(_ report: Report) -> ConfiguredIssuer? {
        guard !report.isValid, let issuer = report.issuer,
            report.failures.contains(where: { $0.code == .unknownKeyID })
        else { return nil }
        return issuer
    }

    /// Validates once more after a (rate-limited, coalesced) refetch of one issuer's keys.
    private func revalidate(_ token: [UInt8], now: Double, issuer: ConfiguredIssuer, on eventLoop: any EventLoop) -> EventLoopFuture<Report> {
        issuer.keys.keysAfterUnknownKeyID(on: eventLoop).map { keys in
            self.validator.validate(token, now: now, keys: keys)
        }
    }

    /// The revocation of a token that verified (logout, admin revoke-by-token, RFC 7009): the one place
    /// that says which issuer, id, subject and expiry a token's entry gets. nil for a refused token.
    func revocationRequest(for report: Report, reason: String, actor: String) -> RevocationRequest? {
        guard report.isValid, let claims = report.claims, let issuer = report.issuer, let id = revocationID(of: report) else { return nil }
        return RevocationRequest(
            issuer: issuer.name, jti: id, subject: claims.subject, tokenExpiresAt: claims.expiresAt, reason: reason, actor: actor)
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
        let cache = useCache ? dependencies.caches.cache(for: eventLoop) : nil
        let key = cache.map { _ in dependencies.tokenDigest(token) }
        if let cache, let key {
            if let verified = cache.lookup(key, now: now) {
                dependencies.cacheHits?.increment()
                lookUpRevocation(verified, on: eventLoop, then: then)
                return
            }
            dependencies.cacheMisses?.increment()
        }
        let report = validator.validate(token, now: now)
        guard let retry = refetchIssuer(report) else {
            decide(report, key: key, cache: cache, on: eventLoop, then: then)
            return
        }
        revalidate(token, now: now, issuer: retry, on: eventLoop).whenComplete { result in
            // keysAfterUnknownKeyID never fails; if it did, the first verdict stands.
            self.decide((try? result.get()) ?? report, key: key, cache: cache, on: eventLoop, then: then)
        }
    }

    /// Caches a valid token (only with an expiry, never past exp + leeway) and looks up its revocation.
    private func decide(
        _ report: Report, key: VerificationCache.Key?, cache: VerificationCache?,
        on eventLoop: any EventLoop, then: @escaping @Sendable (CheckOutcome) -> Void
    ) {
        guard let verified = verifiedToken(report) else {
            let failure = report.failures.first ?? ValidationFailure(.malformedToken, .structure, "The token was refused.")
            then(.denied(failure, TokenFacts(report.claims)))
            return
        }
        if let failure = Self.unfaithfulIdentity(verified) {
            then(.denied(failure, verified.facts))
            return
        }
        if let cache, let key, let exp = verified.expiresAt, let keys = report.keys {
            cache.insert(key, token: verified.withoutClaims, validUntil: exp + verified.origin.policy.leeway, keyGeneration: keys.generation)
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
    func revocationID(of report: Report) -> String? {
        guard let claims = report.claims, let jws = report.jws else { return nil }
        return claims.jwtID ?? "sha256:" + dependencies.digest(Array(jws.signingInput))
    }

    /// The parts of a valid token the answer needs; nil for a refused one.
    private func verifiedToken(_ report: Report) -> VerifiedToken? {
        guard report.isValid, let claims = report.claims, let origin = report.issuer else { return nil }
        let revocationID = revocationID(of: report) ?? ""
        return VerifiedToken(
            origin: origin, revocationID: revocationID, claims: claims, keyID: report.key?.keyID,
            answer: AllowedAnswer(
                issuer: origin.name, revocationID: revocationID, claims: claims,
                claimHeaders: origin.claimHeaders, budget: dependencies.identityHeaderBudget,
                allocator: Self.allocator))
    }

    private func lookUpRevocation(_ verified: VerifiedToken, on eventLoop: any EventLoop, then: @escaping @Sendable (CheckOutcome) -> Void) {
        let failOpen = dependencies.failOpen
        blocklist.status(verified.revocationQuery, on: eventLoop) { result in
            switch result {
            case .success(.notRevoked):
                if let expired = self.expiredDuringLookup(verified) { return then(expired) }
                then(.allowed(verified, degraded: false))
            case let .success(.tokenRevoked(entry)):
                then(.denied(Self.revokedFailure(verified, entry), verified.facts))
            case let .success(.cutOff(cutoff)):
                then(.denied(Self.cutoffFailure(issuedAt: verified.issuedAt, cutoff), verified.facts))
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
        guard let exp = verified.expiresAt, clock() >= exp + verified.origin.policy.leeway else { return nil }
        return .denied(
            ValidationFailure(
                .tokenExpired, .expiry,
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

    static func cutoffFailure(issuedAt: Double?, _ cutoff: Cutoff) -> ValidationFailure {
        let issued = issuedAt.map { "was issued at \(UTCTime.iso8601($0))" } ?? "has no iat, so it cannot prove it is newer"
        let what = cutoff.kind == .issuer ? "Every token of the issuer" : "Every token of \(cutoff.kind.describe(cutoff.value))"
        var message = "\(what) issued at or before \(UTCTime.iso8601(cutoff.cutoff)) was revoked"
        if !cutoff.reason.isEmpty { message += " (reason: \(cutoff.reason))" }
        return ValidationFailure(
            cutoff.kind.reasonCode, .revocation, message + "; this token \(issued).", hint: "Sign in again to get a new token.")
    }

    private static let allocator = ByteBufferAllocator()
}
