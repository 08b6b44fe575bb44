import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MetricsTestKit
import NIOCore
import VetoCore
import VetoSignals

/// The two receivers' routes on Hummingbird's router test framework, with effects recorded in memory.
struct SignalRoutes: Sendable {
    static let pushAuthorization = "Bearer push-secret-0123456789"
    static let otherAuthorization = "Bearer other-transmitter-secret"

    let effects: RecordingEffects
    let metrics: TestMetrics
    let processor: SignalProcessor

    /// Runs `body` against a router with the OP's back-channel logout and two push receivers:
    /// `tx` (`pushAuthorization`) and `https://tx2.test` (`otherAuthorization`).
    static func with(
        effects: any SignalEffects = RecordingEffects(), maxBodyBytes: Int = 64 * 1024,
        _ body: @Sendable (SignalRoutes, any TestClientProtocol) async throws -> Void
    ) async throws {
        let recording = effects as? RecordingEffects ?? RecordingEffects()
        let metrics = TestMetrics()
        let processor = SignalProcessor.make(effects: effects, factory: metrics)
        let second = SETValidator(
            transmitter: "https://tx2.test", audience: SignalFixture.txAudience, algorithms: [.rs256],
            keys: SignalFixture.keys(SignalFixture.strangerRS), scope: SubjectScope(configuredIssuers: [SignalFixture.op], tokenIssuers: []),
            maxTokenBytes: 32 * 1024)
        let router = Router(context: BasicRequestContext.self)
        Signals.routes(
            processor: processor, logout: SignalFixture.logoutValidator,
            push: [(pushAuthorization, SignalFixture.setValidator()), (otherAuthorization, second)], maxBodyBytes: maxBodyBytes)(router)
        let routes = SignalRoutes(effects: recording, metrics: metrics, processor: processor)
        try await Application(router: router).test(.router) { client in try await body(routes, client) }
    }

    func count(_ source: String, _ event: String, _ outcome: String) -> Int64 {
        let counter = try? metrics.expectCounter("veto_signal_events_total", [("source", source), ("event", event), ("outcome", outcome)])
        return counter?.totalValue ?? 0
    }
}

extension TestClientProtocol {
    func logout(_ form: String, contentType: String = "application/x-www-form-urlencoded") async throws -> TestResponse {
        try await execute(
            uri: "/oidc/backchannel-logout", method: .post, headers: [.contentType: contentType], body: ByteBuffer(string: form))
    }

    func push(_ set: String, authorization: String? = SignalRoutes.pushAuthorization, contentType: String = "application/secevent+jwt")
        async throws -> TestResponse
    {
        var headers: HTTPFields = [.contentType: contentType]
        if let authorization { headers[.authorization] = authorization }
        return try await execute(uri: "/ssf/events", method: .post, headers: headers, body: ByteBuffer(string: set))
    }
}

extension TestResponse {
    var object: JSONObject { (try? JSONReader().parseObject(Array(body.readableBytesView))) ?? JSONObject() }
    func string(_ name: String) -> String? { object[name]?.stringValue }
    var vetoError: String? { headers[HTTPField.Name("X-Veto-Error")!] }
}
