import VetoCore
import VetoServer

/// An issuer whose logout tokens are accepted (`issuers[].backchannel_logout`).
package struct LogoutIssuer: Sendable {
    package let name: String
    /// The issuer's own keys (the same provider `/v1/check` uses): algorithms pinned per key.
    package let keys: any KeyProvider
    /// The rules `TokenValidator` applies: the issuer's keys and leeway, the back-channel audiences,
    /// and `iat`, `exp`, `jti` required. `typ` is checked here, since three values are allowed.
    let policy: IssuerPolicy

    package init(name: String, audiences: [String], keys: any KeyProvider, leeway: Double, maxTokenBytes: Int) {
        self.name = name
        self.keys = keys
        var policy = IssuerPolicy(
            issuer: name, audiences: audiences, keys: keys, leeway: leeway, requiredClaims: ["iat", "exp", "jti"],
            maxTokenSize: maxTokenBytes, maxIdentifierBytes: SignalIdentifier.maxBytes)
        policy.acceptsSecurityEvents = true
        self.policy = policy
    }
}

/// A logout token that passed every check of OpenID Connect Back-Channel Logout 1.0 §2.6.
package struct LogoutToken: Sendable, Equatable {
    package let issuer: String
    package let jwtID: String
    package let issuedAt: Double
    package let expiresAt: Double
    package let session: String?
    package let subject: String?

    /// A `sid` cut-off when the token names a session, else a `sub` cut-off, at the token's `iat`.
    package var effect: SignalEffect {
        if let session {
            return SignalEffect(tokenIssuer: issuer, kind: .session, value: session, at: issuedAt, createdBy: Self.createdBy)
        }
        return SignalEffect(tokenIssuer: issuer, kind: .subject, value: subject ?? "", at: issuedAt, createdBy: Self.createdBy)
    }

    package static let createdBy = "backchannel_logout"
}

/// Judges logout tokens. Pure: the caller supplies the time, and refetches keys after `unknown_key_id`.
package struct LogoutTokenValidator: Sendable {
    private let issuers: [ExactString: LogoutIssuer]
    private let validators: [ExactString: TokenValidator<IssuerPolicy>]
    private let maxTokenBytes: Int

    package init(issuers: [LogoutIssuer], maxTokenBytes: Int) {
        self.issuers = Dictionary(issuers.map { (ExactString($0.name), $0) }, uniquingKeysWith: { first, _ in first })
        self.validators = self.issuers.mapValues { TokenValidator(policy: $0.policy) }
        self.maxTokenBytes = maxTokenBytes
    }

    /// The issuer a token names, if it accepts logout tokens. Routing by the unverified `iss` only picks
    /// whose keys judge the token; it proves nothing.
    package func issuer(of token: [UInt8]) -> Result<LogoutIssuer, SignalRefusal> {
        let jws: CompactJWS
        do { jws = try CompactJWS.parse(token, maxSize: maxTokenBytes) } catch { return .failure(SignalRefusal(error)) }
        let (claims, failures) = JWTClaims.parse(payload: jws.payload, contentType: jws.header.contentType)
        guard let claims else { return .failure(SignalRefusal(failures.first ?? ValidationFailure(.malformedToken, .structure, "Unreadable."))) }
        guard let name = claims.issuer else {
            return .failure(SignalRefusal(.issuerUnknown, "The logout token has no string iss claim, so it names no issuer."))
        }
        guard let issuer = issuers[ExactString(name)] else {
            return .failure(
                SignalRefusal(
                    .issuerUnknown, "The logout token's iss is \(JSONWriter.quoted(name)), which is not an issuer with back-channel logout."))
        }
        return .success(issuer)
    }

    /// Signature and registered claims; `keys` replaces the issuer's current keys (after a refetch).
    package func validate(_ token: [UInt8], issuer: LogoutIssuer, now: Double, keys: KeySet? = nil) -> ValidationReport<IssuerPolicy> {
        guard let validator = validators[ExactString(issuer.name)] else { preconditionFailure("an issuer routed by issuer(of:)") }
        return validator.validate(token, now: now, keys: keys)
    }

    /// The checks of §2.6 on a validated report: every failure of the validator first, then `typ`,
    /// `events`, `nonce`, and `sid` or `sub`.
    package func judge(_ report: ValidationReport<IssuerPolicy>) -> Result<LogoutToken, SignalRefusal> {
        if let failure = report.failures.first { return .failure(SignalRefusal(failure)) }
        guard let jws = report.jws, let claims = report.claims, let issuer = claims.issuer, let jti = claims.jwtID,
            let iat = claims.issuedAt, let exp = claims.expiresAt
        else { return .failure(SignalRefusal(.missingClaim, "The logout token lacks iss, iat, exp or jti.")) }
        if let type = jws.header.type, !["jwt", "logout+jwt"].containsExactly(MediaType.normalised(type)) {
            // An access token (at+jwt), a SET (secevent+jwt) or an ID token with another typ is never a logout token.
            return .failure(
                SignalRefusal(
                    .tokenTypeMismatch,
                    "The token's typ header is \(JSONWriter.quoted(type)); a logout token has typ \"logout+jwt\", \"JWT\" or none."))
        }
        guard let events = claims.object["events"] else {
            return .failure(SignalRefusal(.eventsMissing, "The token has no events claim; a logout token carries the back-channel-logout event."))
        }
        guard let members = events.objectValue else {
            return .failure(SignalRefusal(.malformedClaim, "The events claim is \(events.typeDescription); it must be a JSON object."))
        }
        guard let event = members[SignalEvent.backchannelLogout.rawValue] else {
            return .failure(
                SignalRefusal(.eventsMissing, "The events claim has no member \"\(SignalEvent.backchannelLogout.rawValue)\"."))
        }
        guard event.objectValue != nil else {
            return .failure(SignalRefusal(.malformedClaim, "The back-channel-logout event is \(event.typeDescription); it must be a JSON object."))
        }
        if claims.object["nonce"] != nil {
            return .failure(SignalRefusal(.noncePresent, "The token has a nonce claim; a logout token must not (it would be an ID token)."))
        }
        var session: String?
        if let value = claims.object["sid"] {
            guard let sid = value.stringValue else {
                return .failure(SignalRefusal(.malformedClaim, "The sid claim is \(value.typeDescription); it must be a string."))
            }
            if let problem = SignalIdentifier.problem(sid, name: "sid claim") { return .failure(problem) }
            session = sid
        }
        if let subject = claims.subject, let problem = SignalIdentifier.problem(subject, name: "sub claim") { return .failure(problem) }
        guard session != nil || claims.subject != nil else {
            return .failure(SignalRefusal(.missingClaim, "The logout token has neither sid nor sub; it must name a session or a subject."))
        }
        return .success(LogoutToken(issuer: issuer, jwtID: jti, issuedAt: iat, expiresAt: exp, session: session, subject: claims.subject))
    }
}

/// RFC 7515 §4.1.9: `typ` compares ASCII case-insensitively, and `application/` may be left out.
enum MediaType {
    static func normalised(_ type: String) -> String {
        let lower = String(decoding: type.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return lower.hasPrefix("application/") ? String(lower.dropFirst(12)) : lower
    }
}
