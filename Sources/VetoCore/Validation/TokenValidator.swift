/// The outcome of validating one token: the verified claims, or every reason it was refused.
package struct ValidationReport<Issuer: ValidatingIssuer>: Sendable {
    package let jws: CompactJWS?
    package let claims: JWTClaims?
    /// The key whose signature check passed, even when other checks failed: use `isValid`
    /// to decide, this only says which key matched.
    package let key: VerificationKey?
    /// The issuer the token was routed to by its (unverified) `iss`; nil when none matched.
    package let issuer: Issuer?
    /// The key set that judged the signature (its generation tells a cached result's age).
    package let keys: KeySet?
    /// Every failed check, in checklist order. Empty means the token is valid.
    package let failures: [ValidationFailure]
    /// Checks that could not be evaluated because an earlier step failed (no claims to read, …).
    package let skipped: Set<ValidationCheck>

    package var isValid: Bool { failures.isEmpty }

    /// The rules of `issuer`.
    package var policy: IssuerPolicy? { issuer?.policy }

    package func failures(for check: ValidationCheck) -> [ValidationFailure] {
        failures.filter { $0.check == check }
    }
}

/// Validates tokens against one or more issuers' policies. Pure: the caller supplies the time.
///
/// With several policies, a token is routed by its unverified `iss` and judged only by that
/// issuer's keys and rules. With one policy, that policy judges every token, so a wrong `iss`
/// is reported next to the signature and time checks instead of hiding them.
package struct TokenValidator<Issuer: ValidatingIssuer>: Sendable {
    package let issuers: [Issuer]
    /// Issuer routing by the bytes of `iss` (RFC 7519 §2: no canonicalisation).
    private let byIssuer: [ExactString: Int]
    /// The largest token any policy accepts: the parser's bound, computed once.
    private let maxTokenSize: Int

    package init(issuers: [Issuer]) {
        self.issuers = issuers
        var index: [ExactString: Int] = [:]
        for (position, issuer) in issuers.enumerated() {
            if let name = issuer.policy.issuer { index[ExactString(name)] = position }
        }
        self.byIssuer = index
        self.maxTokenSize = issuers.map(\.policy.maxTokenSize).max() ?? CompactJWS.defaultMaxSize
    }

    package func validate(_ token: String, now: Double) -> ValidationReport<Issuer> {
        validate(Array(token.utf8), now: now)
    }

    /// - Parameter keys: judge with these keys instead of the routed issuer's current ones (a refetch
    ///   after an unknown `kid`; the same token routes to the same issuer again).
    package func validate(_ token: [UInt8], now: Double, keys replacement: KeySet? = nil) -> ValidationReport<Issuer> {
        let jws: CompactJWS
        do {
            jws = try CompactJWS.parse(token, maxSize: maxTokenSize)
        } catch {
            return ValidationReport(
                jws: nil, claims: nil, key: nil, issuer: nil, keys: nil, failures: [error],
                skipped: Set(ValidationCheck.allCases).subtracting([.structure]))
        }
        var failures: [ValidationFailure] = []
        var skipped: Set<ValidationCheck> = []
        let (claims, claimFailures) = JWTClaims.parse(payload: jws.payload, contentType: jws.header.contentType)

        // Route by the unverified iss: it only picks which rules apply, it proves nothing.
        let position: Int?
        if issuers.count == 1 {
            position = 0
        } else if let issuer = claims?.issuer, let routed = byIssuer[ExactString(issuer)] {
            position = routed
        } else {
            position = issuers.firstIndex { $0.policy.issuer == nil }
        }

        guard let position else {
            // The list of configured issuers is configuration: the terminal shows it, HTTP answers do not.
            let known = "The configured issuers are " + issuers.compactMap(\.policy.issuer).map { "\"\($0)\"" }.joined(separator: ", ") + "."
            let message: String
            if let issuer = claims?.issuer {
                message = "The token's iss is \"\(issuer)\", which is not a configured issuer."
            } else {
                message = "The token has no iss claim, so it matches no configured issuer."
            }
            failures.append(contentsOf: claimFailures)
            failures.append(
                ValidationFailure(
                    .issuerUnknown, .issuer, message,
                    hint: "Configure this issuer with its keys, or check which identity provider minted the token.",
                    detail: known))
            return ValidationReport(
                jws: jws, claims: claims, key: nil, issuer: nil, keys: nil, failures: sorted(failures),
                skipped: [.algorithm, .key, .signature, .expiry, .notBefore, .audience, .type, .requiredClaims, .lifetime])
        }

        let issuer = issuers[position]
        let policy = issuer.policy
        let keys = replacement ?? policy.keys.current
        var key: VerificationKey?
        switch keys.verify(jws) {
        case let .success(found): key = found
        case let .failure(failure): failures.append(failure)
        }
        failures.append(contentsOf: claimFailures)

        if let claims {
            failures.append(contentsOf: checkClaims(claims, header: jws.header, policy: policy, now: now))
        } else {
            skipped.formUnion([.expiry, .notBefore, .issuedAt, .issuer, .audience, .requiredClaims, .lifetime])
        }
        return ValidationReport(
            jws: jws, claims: claims, key: key, issuer: issuer, keys: keys,
            failures: sorted(failures), skipped: skipped)
    }

    func checkClaims(_ claims: JWTClaims, header: JOSEHeader, policy: IssuerPolicy, now: Double) -> [ValidationFailure] {
        var failures: [ValidationFailure] = []
        let leeway = policy.leeway
        if let exp = claims.expiresAt, now >= exp + leeway {
            failures.append(
                ValidationFailure(
                    .tokenExpired, .expiry,
                    "The token expired at \(UTCTime.iso8601(exp)), \(HumanDuration.format(now - exp)) ago (now is \(UTCTime.iso8601(now)), leeway \(HumanDuration.format(leeway))).",
                    hint: "Get a fresh token (refresh it). If it expired only seconds ago, check the clocks of the issuer and this host."))
        }
        if let nbf = claims.notBefore, now + leeway < nbf {
            failures.append(
                ValidationFailure(
                    .tokenNotYetValid, .notBefore,
                    "The token is not valid before \(UTCTime.iso8601(nbf)), \(HumanDuration.format(nbf - now)) from now (now is \(UTCTime.iso8601(now)), leeway \(HumanDuration.format(leeway))).",
                    hint: "A clock is wrong: compare the issuer's time with this host's (NTP)."))
        }
        if let iat = claims.issuedAt, now + leeway < iat {
            failures.append(
                ValidationFailure(
                    .tokenNotYetValid, .issuedAt,
                    "The token claims to be issued at \(UTCTime.iso8601(iat)), \(HumanDuration.format(iat - now)) in the future (now is \(UTCTime.iso8601(now)), leeway \(HumanDuration.format(leeway))).",
                    hint: "A clock is wrong: compare the issuer's time with this host's (NTP)."))
        }
        if let expected = policy.issuer {
            if let issuer = claims.issuer {
                if !issuer.hasSameBytes(as: expected) {
                    failures.append(
                        ValidationFailure(
                            .issuerUnknown, .issuer,
                            "The token's iss is \"\(issuer)\", but the expected issuer is \"\(expected)\".",
                            hint: issuerHint(actual: issuer, expected: expected)))
                }
            } else if claims.object["iss"] == nil {
                failures.append(ValidationFailure(.missingClaim, .issuer, "The token has no iss claim; the expected issuer is \"\(expected)\"."))
            }
        }
        if !policy.audiences.isEmpty {
            let expected = policy.audiences.map { "\"\($0)\"" }.joined(separator: " or ")
            if let audience = claims.audience {
                if !audience.contains(where: policy.audiences.containsExactly) {
                    let actual = audience.isEmpty ? "an empty list" : audience.map { "\"\($0)\"" }.joined(separator: ", ")
                    failures.append(
                        ValidationFailure(
                            .audienceMismatch, .audience,
                            "The token's aud is \(actual), but this service accepts \(expected).",
                            hint: "The token was minted for another API or environment (staging vs production?). Request a token for \(expected)."))
                }
            } else if claims.object["aud"] == nil {
                failures.append(
                    ValidationFailure(
                        .missingClaim, .audience, "The token has no aud claim; this service accepts \(expected).",
                        hint: "Ask the issuer to include the audience (RFC 8707 resource or the API identifier)."))
            }
        }
        if let required = policy.requiredType {
            let actual = header.type
            if actual.map({ normaliseType($0).hasSameBytes(as: normaliseType(required)) }) != true {
                failures.append(
                    ValidationFailure(
                        .tokenTypeMismatch, .type,
                        "The token's typ header is \(actual.map { "\"\($0)\"" } ?? "absent"), but \"\(required)\" is required.",
                        hint: required.lowercased().contains("at+jwt")
                            ? "RFC 9068 access tokens carry typ \"at+jwt\"; an ID token is not an access token." : nil))
            }
        }
        if !policy.acceptsSecurityEvents, let kind = Self.securityEventKind(header: header, claims: claims) {
            failures.append(
                ValidationFailure(
                    .tokenTypeMismatch, .type,
                    "The token is \(kind), not an access token: security event tokens tell a receiver about an event and are never accepted as credentials.",
                    hint: "Send the access token; logout tokens go to the back-channel logout endpoint, SETs to the Shared Signals receiver."))
        }
        for name in policy.requiredClaims where claims.object[name] == nil {
            let check: ValidationCheck =
                switch name {
                case "exp": .expiry
                case "nbf": .notBefore
                case "iat": .issuedAt
                case "iss": .issuer
                case "aud": .audience
                default: .requiredClaims
                }
            if check == .issuer && policy.issuer != nil { continue }  // reported above
            if check == .audience && !policy.audiences.isEmpty { continue }
            failures.append(
                ValidationFailure(
                    .missingClaim, check,
                    "The token has no \"\(name)\" claim, which is required\(name == "jti" ? " (without a jti the token cannot be revoked individually)" : name == "exp" ? " (a token without exp never expires)" : "").",
                    hint: "Ask the issuer to include \"\(name)\", or relax the requirement in the configuration."))
        }
        if let jti = claims.jwtID, jti.isEmpty {
            // An empty jti identifies nothing: the token could never be revoked (security finding 11).
            failures.append(
                ValidationFailure(
                    .malformedClaim, .requiredClaims, "The \"jti\" claim is an empty string; a jti must identify the token.",
                    hint: "Ask the issuer to mint a unique, non-empty jti (RFC 7519 §4.1.7)."))
        }
        if let limit = policy.maxIdentifierBytes {
            for (name, value) in [("jti", claims.jwtID), ("sub", claims.subject)] {
                if let value, value.utf8.count > limit {
                    failures.append(
                        ValidationFailure(
                            .malformedClaim, .requiredClaims,
                            "The \"\(name)\" claim is \(value.utf8.count) bytes long; at most \(limit) are accepted, since a longer one could not be revoked.",
                            hint: "Identifiers this long are usually a bug in the issuer."))
                }
            }
        }
        if let maxLifetime = policy.maxLifetime, claims.expiresAt == nil, claims.object["exp"] == nil {
            // Revocation rules live for a bounded time; a token without exp would outlive every one.
            failures.append(
                ValidationFailure(
                    .lifetimeTooLong, .lifetime,
                    "The token has no exp, so it would never expire; the maximum lifetime is \(HumanDuration.format(maxLifetime)).",
                    hint: "Ask the issuer to include exp."))
        }
        if let maxLifetime = policy.maxLifetime, let exp = claims.expiresAt {
            let start = claims.issuedAt ?? claims.notBefore
            if let start, exp - start > maxLifetime {
                failures.append(
                    ValidationFailure(
                        .lifetimeTooLong, .lifetime,
                        "The token lives \(HumanDuration.format(exp - start)) (from \(UTCTime.iso8601(start)) to \(UTCTime.iso8601(exp))); the maximum is \(HumanDuration.format(maxLifetime)).",
                        hint: "Long-lived bearer tokens are risky; shorten the issuer's token lifetime."))
            } else if start == nil, exp - now > maxLifetime + policy.leeway {
                failures.append(
                    ValidationFailure(
                        .lifetimeTooLong, .lifetime,
                        "The token expires \(HumanDuration.format(exp - now)) from now, beyond the maximum lifetime of \(HumanDuration.format(maxLifetime)).",
                        hint: "Long-lived bearer tokens are risky; shorten the issuer's token lifetime."))
            }
        }
        return failures
    }

    /// "a logout token" or "a security event token (SET)" when the header's `typ` or an `events` object says so.
    private static func securityEventKind(header: JOSEHeader, claims: JWTClaims) -> String? {
        let type = header.type.map { type in
            String(decoding: type.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        if type == "logout+jwt" || type == "application/logout+jwt" { return "a logout token (typ logout+jwt)" }
        if type == "secevent+jwt" || type == "application/secevent+jwt" { return "a security event token (typ secevent+jwt)" }
        guard let events = claims.object["events"]?.objectValue else { return nil }
        return events["http://schemas.openid.net/event/backchannel-logout"] != nil
            ? "a logout token (its events claim has the back-channel logout event)" : "a security event token (it has an events claim)"
    }

    /// RFC 7515 §4.1.9: media types compare ASCII case-insensitively; nothing else is folded.
    private func normaliseType(_ type: String) -> String {
        let lower = String(decoding: type.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return lower.utf8.starts(with: "application/".utf8) ? String(decoding: lower.utf8.dropFirst(12), as: UTF8.self) : lower
    }

    private func issuerHint(actual: String, expected: String) -> String {
        let trim = { (s: String) in s.hasSuffix("/") ? String(s.dropLast()) : s }
        if trim(actual) == trim(expected) {
            return "The two differ only by a trailing slash; iss is compared exactly, so configure the issuer exactly as the token spells it."
        }
        return
            "The token comes from another issuer (a provider migration, or another tenant or environment?). Configure \"\(actual)\" as an issuer if it is trusted."
    }

    private func sorted(_ failures: [ValidationFailure]) -> [ValidationFailure] {
        // Nothing to order for a valid token (the common case) or a single failure.
        guard failures.count > 1 else { return failures }
        let order = checkOrder
        return failures.enumerated().sorted { lhs, rhs in
            let l = order[lhs.element.check] ?? 0, r = order[rhs.element.check] ?? 0
            return l != r ? l < r : lhs.offset < rhs.offset
        }.map(\.element)
    }

}

/// The CLI's validators: bare policies with fixed keys.
extension TokenValidator where Issuer == IssuerPolicy {
    package init(policies: [IssuerPolicy]) {
        self.init(issuers: policies)
    }

    package init(policy: IssuerPolicy) {
        self.init(issuers: [policy])
    }
}

private let checkOrder = Dictionary(uniqueKeysWithValues: ValidationCheck.allCases.enumerated().map { ($1, $0) })
