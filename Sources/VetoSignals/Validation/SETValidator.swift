import VetoCore
import VetoServer

/// A Security Event Token that passed every check (RFC 8417, SSF 1.0, the CAEP interoperability
/// profile), with the cut-offs it asks for.
package struct SecurityEvent: Sendable, Equatable {
    /// The transmitter (the SET's `iss`).
    package let transmitter: String
    package let jwtID: String
    package let issuedAt: Double
    package let expiresAt: Double?
    /// Nil for an event Veto does not know (logged and counted, no effect).
    package let event: SignalEvent?
    package let effects: [SignalEffect]
    /// The `state` of a verification event, cut to 128 characters.
    package let verificationState: String?

    package var shortName: String { event?.shortName ?? SignalEvent.unknownName }
}

/// Judges the SETs of one receiver. Pure: the caller supplies the time and refetches keys after
/// `unknown_key_id`.
package struct SETValidator: Sendable {
    package static let leeway: Double = 60

    package let transmitter: String
    package let algorithms: [JWSAlgorithm]
    package let keys: any KeyProvider
    package let scope: SubjectScope
    package let createdBy: String
    private let validator: TokenValidator<IssuerPolicy>
    private let maxTokenBytes: Int

    package init(
        transmitter: String, audience: String, algorithms: [JWSAlgorithm], keys: any KeyProvider, scope: SubjectScope, maxTokenBytes: Int
    ) {
        self.transmitter = transmitter
        self.algorithms = algorithms
        self.keys = keys
        self.scope = scope
        self.createdBy = "ssf:" + transmitter
        self.maxTokenBytes = maxTokenBytes
        // typ secevent+jwt (compared case-insensitively, application/ optional), iat and jti required,
        // exp checked only when present.
        var policy = IssuerPolicy(
            issuer: transmitter, audiences: [audience], keys: keys, leeway: Self.leeway, requiredClaims: ["iat", "jti"],
            requiredType: "secevent+jwt", maxTokenSize: maxTokenBytes, maxIdentifierBytes: SignalIdentifier.maxBytes)
        policy.acceptsSecurityEvents = true
        self.validator = TokenValidator(policy: policy)
    }

    /// What is refused before any key is tried: structure, an `iss` other than this receiver's
    /// transmitter, an `alg` this receiver does not accept.
    package func precheck(_ token: [UInt8]) -> SignalRefusal? {
        let jws: CompactJWS
        do { jws = try CompactJWS.parse(token, maxSize: maxTokenBytes) } catch { return SignalRefusal(error) }
        let (claims, failures) = JWTClaims.parse(payload: jws.payload, contentType: jws.header.contentType)
        guard let claims else { return SignalRefusal(failures.first ?? ValidationFailure(.malformedToken, .structure, "Unreadable.")) }
        guard let issuer = claims.issuer, issuer.hasSameBytes(as: transmitter) else {
            let shown = claims.issuer.map(JSONWriter.quoted) ?? "absent"
            return SignalRefusal(
                .issuerUnknown, "The SET's iss is \(shown), but this receiver accepts SETs of \(JSONWriter.quoted(transmitter)) only.")
        }
        guard let algorithm = jws.header.algorithm, algorithms.contains(algorithm) else {
            return SignalRefusal(
                .algorithmNotAllowed,
                "The SET's alg is \(JSONWriter.quoted(jws.header.algorithmName)); this receiver accepts \(algorithms.map(\.rawValue).joined(separator: ", "))."
            )
        }
        return nil
    }

    package func validate(_ token: [UInt8], now: Double, keys: KeySet? = nil) -> ValidationReport<IssuerPolicy> {
        validator.validate(token, now: now, keys: keys)
    }

    /// The checks on a validated report: every failure of the validator first, then one event, its
    /// subject and its time.
    package func judge(_ report: ValidationReport<IssuerPolicy>, now: Double) -> Result<SecurityEvent, SignalRefusal> {
        if let failure = report.failures.first { return .failure(SignalRefusal(failure)) }
        guard let claims = report.claims, let jti = claims.jwtID, let iat = claims.issuedAt else {
            return .failure(SignalRefusal(.missingClaim, "The SET lacks iat or jti."))
        }
        do throws(SignalRefusal) {
            let (uri, payload) = try singleEvent(claims.object)
            let event = SignalEvent.named(uri)
            var effects: [SignalEffect] = []
            if let event, event.effect != .none {
                let at = try eventTime(payload, issuedAt: iat, now: now)
                let subject: SubjectIdentifier
                if let value = payload["subject"] {
                    subject = try SubjectIdentifier.parse(value, name: "event's subject")
                } else if let value = claims.object["sub_id"] {
                    subject = try SubjectIdentifier.parse(value, name: "sub_id")
                } else {
                    throw SignalRefusal(.missingClaim, "The SET names no subject: neither the event's subject nor sub_id is present.")
                }
                effects = try EventEffects.effects(of: event, subject: subject, at: at, scope: scope, createdBy: createdBy)
            }
            let state = event == .verification ? payload["state"]?.stringValue.map { String($0.prefix(128)) } : nil
            return .success(
                SecurityEvent(
                    transmitter: transmitter, jwtID: jti, issuedAt: iat, expiresAt: claims.expiresAt, event: event, effects: effects,
                    verificationState: state))
        } catch {
            return .failure(error)
        }
    }

    /// RFC 8417 §2.2 and SSF 1.0: `events` holds exactly one event, whose payload is an object.
    private func singleEvent(_ claims: JSONObject) throws(SignalRefusal) -> (String, JSONObject) {
        guard let events = claims["events"] else { throw SignalRefusal(.eventsMissing, "The SET has no events claim.") }
        guard let members = events.objectValue else {
            throw SignalRefusal(.malformedClaim, "The events claim is \(events.typeDescription); it must be a JSON object.")
        }
        guard let first = members.members.first else { throw SignalRefusal(.eventsMissing, "The events claim is an empty object.") }
        guard members.count == 1 else {
            throw SignalRefusal(.eventsTooMany, "The events claim holds \(members.count) events; a SET carries exactly one.")
        }
        guard let payload = first.value.objectValue else {
            throw SignalRefusal(.malformedClaim, "The event's payload is \(first.value.typeDescription); it must be a JSON object.")
        }
        return (first.name, payload)
    }

    /// The event's `event_timestamp` (CAEP), else the SET's `iat`. A time beyond the leeway from now
    /// is refused: it would cut off tokens that have not been issued yet, locking the user out.
    private func eventTime(_ payload: JSONObject, issuedAt: Double, now: Double) throws(SignalRefusal) -> Double {
        guard let value = payload["event_timestamp"] else { return issuedAt }
        guard let seconds = value.numberValue?.doubleValue, seconds.isFinite, seconds >= 0, seconds <= JWTClaims.maxNumericDate else {
            throw SignalRefusal(.malformedClaim, "The event_timestamp is \(value.typeDescription); it must be a NumericDate (seconds since 1970).")
        }
        guard seconds <= now + Self.leeway else {
            throw SignalRefusal(
                .malformedClaim,
                "The event_timestamp \(UTCTime.iso8601(seconds)) is in the future (now is \(UTCTime.iso8601(now))); a cut-off cannot start later than now."
            )
        }
        return seconds
    }
}
