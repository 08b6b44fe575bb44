import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import VetoCore
import VetoCrypto
import VetoServer
import VetoSignals

/// Keys, issuers and tokens for the receivers' tests: an OpenID provider (`op`, ES256) whose logout
/// tokens are accepted, and a transmitter (`tx`, RS256) whose SETs are.
enum SignalFixture {
    static let op = "https://op.test"
    static let other = "https://other.test"
    static let tx = "https://tx.test"
    static let txAudience = "https://veto.test/ssf"
    static let clientID = "client-a"

    static let opKey = try! SigningKey.generate(algorithm: .es256, keyID: "op-1")
    static let txKey = try! SigningKey.generate(algorithm: .rs256, keyID: "tx-1")
    /// Same kids, other keys: their signatures fail.
    static let strangerES = try! SigningKey.generate(algorithm: .es256, keyID: "op-1")
    static let strangerRS = try! SigningKey.generate(algorithm: .rs256, keyID: "tx-1")

    static var now: Double { Date().timeIntervalSince1970.rounded(.down) }

    static func keys(_ key: SigningKey) -> StaticKeys {
        StaticKeys(current: KeySet([try! key.verificationKey()]))
    }

    static let logoutIssuer = LogoutIssuer(
        name: op, audiences: [clientID, "client-b"], keys: keys(opKey), leeway: 60, maxTokenBytes: 8192)
    static let logoutValidator = LogoutTokenValidator(issuers: [logoutIssuer], maxTokenBytes: 8192)

    static func setValidator(tokenIssuers: [String] = [op], algorithms: [JWSAlgorithm] = [.rs256]) -> SETValidator {
        SETValidator(
            transmitter: tx, audience: txAudience, algorithms: algorithms, keys: keys(txKey),
            scope: SubjectScope(configuredIssuers: [op, other], tokenIssuers: tokenIssuers), maxTokenBytes: 32 * 1024)
    }

    /// A compact JWS of `header` and `payload` (JSON texts, used as written) signed with `key`.
    static func sign(header: String, payload: String, key: SigningKey) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try! key.sign(Array(input.utf8)))
    }

    static let logoutEvent = #""events":{"http://schemas.openid.net/event/backchannel-logout":{}}"#

    /// A logout token; `claims` replaces the default members (JSON members without braces).
    static func logoutToken(
        claims: String? = nil, typ: String? = "logout+jwt", key: SigningKey = opKey, alg: String = "ES256", jti: String = UUID().uuidString
    ) -> String {
        let t = Int(now)
        let body =
            claims
            ?? #""iss":"\#(op)","aud":"\#(clientID)","iat":\#(t),"exp":\#(t + 120),"jti":"\#(jti)","sid":"session-1","sub":"user-1",\#(logoutEvent)"#
        let header = typ.map { #"{"alg":"\#(alg)","kid":"op-1","typ":"\#($0)"}"# } ?? #"{"alg":"\#(alg)","kid":"op-1"}"#
        return sign(header: header, payload: "{" + body + "}", key: key)
    }

    /// A SET carrying one event `uri` with `event` (JSON members without braces).
    static func set(
        _ uri: String = SignalEvent.sessionRevoked.rawValue,
        event: String = #""subject":{"format":"iss_sub","iss":"https://op.test","sub":"user-1"}"#,
        extra: String = "", typ: String = "secevent+jwt", key: SigningKey = txKey, alg: String = "RS256", iss: String = tx,
        aud: String = txAudience, jti: String = UUID().uuidString, iat: Int? = nil
    ) -> String {
        let payload =
            #"{"iss":"\#(iss)","aud":"\#(aud)","iat":\#(iat ?? Int(now)),"jti":"\#(jti)","events":{"\#(uri)":{\#(event)}}\#(extra)}"#
        return sign(header: #"{"alg":"\#(alg)","kid":"tx-1","typ":"\#(typ)"}"#, payload: payload, key: key)
    }
}

/// Effects kept in memory, or refused as the store would when down: the receivers' own protocol,
/// not a stand-in for Redis or HTTP.
final class RecordingEffects: SignalEffects {
    private let state = Mutex<(effects: [SignalEffect], failure: SignalEffectError?)>(([], nil))

    var effects: [SignalEffect] { state.withLock { $0.effects } }

    func fail(with error: SignalEffectError?) { state.withLock { $0.failure = error } }

    func apply(_ effect: SignalEffect) async throws(SignalEffectError) {
        let failure: SignalEffectError? = state.withLock { state in
            if let failure = state.failure { return failure }
            state.effects.append(effect)
            return nil
        }
        if let failure { throw failure }
    }
}

extension SignalProcessor {
    static func make(effects: any SignalEffects, factory: any MetricsFactory = NOOPMetricsHandler.instance, capacity: Int = 1000) -> SignalProcessor {
        var dependencies = SignalProcessor.Dependencies(
            effects: effects, metrics: SignalMetrics(factory: factory),
            log: SignalLog(logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() }),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, clock: { Date().timeIntervalSince1970 })
        dependencies.replayCapacity = capacity
        return SignalProcessor(dependencies)
    }
}
