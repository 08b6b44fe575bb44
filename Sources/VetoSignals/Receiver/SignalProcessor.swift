import NIOCore
import Synchronization
import VetoCore
import VetoServer

/// What became of one signal.
package enum SignalOutcome: Sendable, Equatable {
    /// Every effect is stored, and the jti remembered.
    case applied
    /// Valid, nothing to store (verification, token-claims-change, an unknown event).
    case ignored
    case refused(SignalRefusal)
    /// Valid or not yet judged, but something it needs is down: the sender must retry. `code` is
    /// `store_unavailable` or `keys_unavailable`; the jti is not remembered.
    case unavailable(code: String, reason: String)
}

/// The one path every signal takes, push, poll or back-channel logout: validate, refuse a replayed
/// jti, store the effects, then remember the jti; count and log the outcome once.
package final class SignalProcessor: Sendable {
    package struct Dependencies: Sendable {
        package var effects: any SignalEffects
        package var metrics: SignalMetrics
        package var log: SignalLog
        package var eventLoopGroup: any EventLoopGroup
        package var clock: @Sendable () -> Double
        package var replayCapacity = 100_000

        package init(
            effects: any SignalEffects, metrics: SignalMetrics, log: SignalLog, eventLoopGroup: any EventLoopGroup,
            clock: @escaping @Sendable () -> Double
        ) {
            self.effects = effects
            self.metrics = metrics
            self.log = log
            self.eventLoopGroup = eventLoopGroup
            self.clock = clock
        }
    }

    /// How long a SET's jti (SETs need no exp) is refused after it was applied, memory permitting.
    package static let setReplayWindow: Double = 86_400

    private let dependencies: Dependencies
    private let replay: Mutex<ReplayCache>

    package init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
        self.replay = Mutex(ReplayCache(capacity: dependencies.replayCapacity))
    }

    package var metrics: SignalMetrics { dependencies.metrics }
    package var log: SignalLog { dependencies.log }

    // MARK: Back-channel logout

    package func logout(_ token: [UInt8], validator: LogoutTokenValidator) async -> SignalOutcome {
        let source = SignalMetrics.Source.backchannelLogout
        let name = SignalEvent.backchannelLogout.shortName
        let issuer: LogoutIssuer
        switch validator.issuer(of: token) {
        case let .success(found): issuer = found
        case let .failure(refusal): return finish(.refused(refusal), source, name)
        }
        let now = dependencies.clock()
        var report = validator.validate(token, issuer: issuer, now: now)
        if report.failures.contains(where: { $0.code == .unknownKeyID }) {
            let keys = try? await issuer.keys.keysAfterUnknownKeyID(on: dependencies.eventLoopGroup.any()).get()
            if let keys { report = validator.validate(token, issuer: issuer, now: now, keys: keys) }
        }
        if !report.isValid, !issuer.keys.isReady, report.failures.contains(where: Self.isKeyFailure) {
            return finish(.unavailable(code: "keys_unavailable", reason: "no keys loaded yet"), source, name, ["iss": issuer.name])
        }
        let logout: LogoutToken
        switch validator.judge(report) {
        case let .success(judged): logout = judged
        case let .failure(refusal): return finish(.refused(refusal), source, name, ["iss": issuer.name])
        }
        let leeway = issuer.policy.leeway
        let outcome = await apply(
            [logout.effect], key: ReplayCache.Key(source: logout.issuer, jti: logout.jwtID), until: logout.expiresAt + leeway, now: now)
        return finish(outcome, source, name, ["iss": logout.issuer, "jti": logout.jwtID, "effects": Self.describe([logout.effect])])
    }

    // MARK: Shared Signals

    /// One SET, pushed or polled, of the receiver `validator` judges for.
    package func securityEvent(_ token: [UInt8], validator: SETValidator) async -> SignalOutcome {
        let source = SignalMetrics.Source.ssf
        var fields = ["iss": validator.transmitter]
        if let refusal = validator.precheck(token) { return finish(.refused(refusal), source, SignalEvent.noneName, fields) }
        let now = dependencies.clock()
        var report = validator.validate(token, now: now)
        if report.failures.contains(where: { $0.code == .unknownKeyID }) {
            let keys = try? await validator.keys.keysAfterUnknownKeyID(on: dependencies.eventLoopGroup.any()).get()
            if let keys { report = validator.validate(token, now: now, keys: keys) }
        }
        if !report.isValid, !validator.keys.isReady, report.failures.contains(where: Self.isKeyFailure) {
            return finish(
                .unavailable(code: "keys_unavailable", reason: "the transmitter's keys are not loaded yet"), source, SignalEvent.noneName, fields)
        }
        let event: SecurityEvent
        switch validator.judge(report, now: now) {
        case let .success(judged): event = judged
        case let .failure(refusal):
            return finish(.refused(refusal), source, Self.eventName(report), fields)
        }
        fields["jti"] = event.jwtID
        if let state = event.verificationState { fields["state"] = state }
        if !event.effects.isEmpty { fields["effects"] = Self.describe(event.effects) }
        let until = event.expiresAt.map { $0 + SETValidator.leeway } ?? max(event.issuedAt, now) + Self.setReplayWindow
        let outcome = await apply(event.effects, key: ReplayCache.Key(source: event.transmitter, jti: event.jwtID), until: until, now: now)
        return finish(outcome, source, event.shortName, fields)
    }

    /// A signal refused before a token could be read (no `logout_token`): counted and logged like the others.
    package func refused(_ refusal: SignalRefusal, source: SignalMetrics.Source) -> SignalOutcome {
        finish(.refused(refusal), source, SignalEvent.noneName)
    }

    /// A request refused before its body was read (401, 413, 415): counted and logged under `code`.
    package func refusedRequest(_ code: String, source: SignalMetrics.Source) {
        record(source, SignalEvent.noneName, .refused, code: code, [:])
    }

    // MARK: Storing

    /// Reserves the jti, stores every effect, then remembers the jti; a failed store forgets it.
    private func apply(_ effects: [SignalEffect], key: ReplayCache.Key, until: Double, now: Double) async -> SignalOutcome {
        guard replay.withLock({ $0.reserve(key, now: now) }) == .reserved else {
            return .refused(SignalRefusal(.jtiReplayed, "The jti \(JSONWriter.quoted(key.jti.value)) was received before."))
        }
        for effect in effects {
            do throws(SignalEffectError) {
                try await dependencies.effects.apply(effect)
            } catch {
                replay.withLock { $0.release(key) }
                switch error {
                case let .unavailable(reason): return .unavailable(code: "store_unavailable", reason: reason)
                case let .rejected(reason): return .refused(SignalRefusal(.malformedClaim, reason))
                }
            }
        }
        replay.withLock { $0.remember(key, until: until) }
        return effects.isEmpty ? .ignored : .applied
    }

    private func finish(
        _ outcome: SignalOutcome, _ source: SignalMetrics.Source, _ event: String, _ fields: [String: String] = [:]
    ) -> SignalOutcome {
        switch outcome {
        case .applied:
            record(source, event, .applied, code: nil, fields)
        case .ignored:
            record(source, event, .ignored, code: nil, fields)
        case let .refused(refusal):
            record(source, event, .refused, code: refusal.code.rawValue, fields)
        case let .unavailable(code, reason):
            var fields = fields
            fields["reason"] = reason
            record(source, event, .failed, code: code, fields)
        }
        return outcome
    }

    private func record(_ source: SignalMetrics.Source, _ event: String, _ outcome: SignalMetrics.Outcome, code: String?, _ fields: [String: String])
    {
        dependencies.metrics.count(source, event: event, outcome)
        dependencies.log.record(source, event: event, outcome, code: code, fields: fields)
    }

    private static func isKeyFailure(_ failure: ValidationFailure) -> Bool {
        failure.code == .unknownKeyID || failure.code == .signatureInvalid
    }

    /// The event a SET names, for the metric label of its refusal (also when its signature failed: the
    /// label is one of the known short names, `unknown` or `none`, never the sender's text).
    private static func eventName(_ report: ValidationReport<IssuerPolicy>) -> String {
        guard let events = report.claims?.object["events"]?.objectValue, events.count == 1, let uri = events.members.first?.name else {
            return SignalEvent.noneName
        }
        return SignalEvent.named(uri)?.shortName ?? SignalEvent.unknownName
    }

    /// "sid for https://op.test, sub for …": the kinds and issuers cut off. Values stay out of the log
    /// line for email subjects (an address is personal data).
    private static func describe(_ effects: [SignalEffect]) -> String {
        effects.map { effect in
            effect.kind == .email ? "email for \(effect.tokenIssuer)" : "\(effect.kind.rawValue) \(effect.value) for \(effect.tokenIssuer)"
        }.joined(separator: ", ")
    }
}
