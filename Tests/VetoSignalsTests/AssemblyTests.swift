import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import VetoCore
import VetoCrypto
import VetoSignals
import VetoStore

@testable import VetoServer

/// `Signals.addOn` on real parts: the configured issuers, a journal store in a temporary directory.
@Suite struct AssemblyTests {
    typealias F = SignalFixture

    static func withContext(
        _ configuration: ServiceConfiguration, _ body: @Sendable (ServiceAddOnContext, EmbeddedBlocklist) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-signals-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blocklist = try await EmbeddedBlocklist.open(
            directory: directory, configuration: BlocklistConfiguration(leeway: 60, maxTokenLifetime: 86_400))
        let issuers = try configuration.issuers.map { issuer in
            try ConfiguredIssuer(configuration: issuer, keys: F.keys(F.opKey), maxTokenLifetime: 86_400, maxTokenBytes: 8192)
        }
        let context = ServiceAddOnContext(
            configuration: configuration, issuers: issuers, blocklist: blocklist, metricsFactory: ServiceMetrics().factory,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, eventLoopGroup: blocklist.eventLoopGroup)
        do {
            try await body(context, blocklist)
        } catch {
            await blocklist.close()
            throw error
        }
        await blocklist.close()
    }

    static func configuration(receivers: [SSFReceiverConfiguration] = []) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        var op = IssuerConfiguration(issuer: F.op)
        op.backchannelLogout = BackchannelLogoutConfiguration(audiences: [F.clientID])
        configuration.issuers = [op, IssuerConfiguration(issuer: F.other)]
        configuration.ssf.receivers = receivers
        return configuration
    }

    @Test func aLogoutByTheProviderCutsTheSubjectOffInTheStore() async throws {
        try await Self.withContext(Self.configuration()) { context, blocklist in
            let addOn = try await Signals.addOn(context)
            #expect(addOn.services.isEmpty)
            let router = Router(context: BasicRequestContext.self)
            addOn.routes(router)
            try await Application(router: router).test(.router) { client in
                let t = Int(F.now)
                let token = F.logoutToken(
                    claims: #""iss":"\#(F.op)","aud":"client-a","iat":\#(t),"exp":\#(t + 60),"jti":"j","sub":"user-7",\#(F.logoutEvent)"#)
                #expect(try await client.logout("logout_token=\(token)").status == .ok)
                let cutoff = try #require(try await blocklist.cutoff(issuer: F.op, kind: .subject, value: "user-7"))
                #expect(cutoff.cutoff == Double(t) && cutoff.createdBy == "backchannel_logout")
                // With sid, only that session.
                #expect(try await client.logout("logout_token=\(F.logoutToken())").status == .ok)
                let session = try #require(try await blocklist.cutoff(issuer: F.op, kind: .session, value: "session-1"))
                #expect(session.createdBy == "backchannel_logout")
                #expect(try await blocklist.cutoff(issuer: F.op, kind: .subject, value: "user-1") == nil)
                // The routes exist with no receiver configured: a push matches none.
                #expect(try await client.push(F.set()).status == .unauthorized)
            }
        }
    }

    @Test func aPushedEventIsStoredAsTheCutoffOfItsKindAndAStoreFailureIs503() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-tx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try F.txKey.publicKeyPEM().write(toFile: directory + "/tx.pem", atomically: true, encoding: .utf8)
        var receiver = SSFReceiverConfiguration(issuer: F.tx, audience: F.txAudience)
        receiver.keys = ["RS256:\(directory)/tx.pem"]
        receiver.pushAuthorization = SignalRoutes.pushAuthorization
        receiver.tokenIssuers = [F.op, F.other]
        try await Self.withContext(Self.configuration(receivers: [receiver])) { context, blocklist in
            let addOn = try await Signals.addOn(context)
            #expect(addOn.services.count == 1)
            // The receivers' service owns an HTTP client: run it, and stop it gracefully at the end.
            let lifecycle = ServiceGroup(services: addOn.services, gracefulShutdownSignals: [], cancellationSignals: [], logger: context.logger)
            let running = Task { try await lifecycle.run() }
            let router = Router(context: BasicRequestContext.self)
            addOn.routes(router)
            try await Application(router: router).test(.router) { client in
                let at = Int(F.now) - 30
                let set = F.set(
                    SignalEvent.accountDisabled.rawValue, event: #""subject":{"format":"email","email":"a@example.com"},"event_timestamp":\#(at)"#)
                #expect(try await client.push(set).status == .accepted)
                for issuer in [F.op, F.other] {
                    let cutoff = try #require(try await blocklist.cutoff(issuer: issuer, kind: .email, value: "a@example.com"))
                    #expect(cutoff.cutoff == Double(at) && cutoff.createdBy == "ssf:https://tx.test")
                }
                // The store goes away: 503, and the transmitter's retry would be applied (the jti is not recorded).
                await blocklist.close()
                let failed = try await client.push(F.set(jti: "after-close"))
                #expect(failed.status == .serviceUnavailable && failed.vetoError == "store_unavailable")
            }
            await lifecycle.triggerGracefulShutdown()
            try await running.value
        }
    }

    @Test func anIssuerWithoutBackchannelLogoutIsUnknownToTheRoute() async throws {
        try await Self.withContext(Self.configuration()) { context, _ in
            let router = Router(context: BasicRequestContext.self)
            try await Signals.addOn(context).routes(router)
            try await Application(router: router).test(.router) { client in
                let t = Int(F.now)
                let token = F.logoutToken(
                    claims: #""iss":"\#(F.other)","aud":"client-a","iat":\#(t),"exp":\#(t + 60),"jti":"j","sid":"s",\#(F.logoutEvent)"#)
                let response = try await client.logout("logout_token=\(token)")
                #expect(response.status == .badRequest && response.vetoError == "issuer_unknown")
            }
        }
    }

    @Test func tokenIssuersMustBeConfiguredIssuersAndKeyFilesReadable() async throws {
        var receiver = SSFReceiverConfiguration(issuer: F.tx, audience: F.txAudience)
        receiver.keys = ["/nonexistent/tx.pem"]
        receiver.pushAuthorization = "Bearer x"
        receiver.tokenIssuers = [F.op]
        try await Self.withContext(Self.configuration(receivers: [receiver])) { context, _ in
            await #expect(throws: ConfigurationError.self) { _ = try await Signals.addOn(context) }
            do { _ = try await Signals.addOn(context) } catch let error as ConfigurationError { #expect(error.field == "ssf.receivers[0].keys[0]") }
        }
        receiver.keys = []
        receiver.jwksURL = "http://127.0.0.1:9/jwks"
        receiver.tokenIssuers = [F.op, "https://unconfigured.test"]
        try await Self.withContext(Self.configuration(receivers: [receiver])) { context, _ in
            do {
                _ = try await Signals.addOn(context)
                Issue.record("accepted an unconfigured token issuer")
            } catch let error as ConfigurationError {
                #expect(error.field == "ssf.receivers[0].token_issuers[1]")
            }
        }
    }

    @Test func theDefaultTokenIssuerIsTheTransmitterOnlyWhenItIsConfigured() throws {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let own = SSFReceiverConfiguration(issuer: F.op, audience: "a")
        #expect(try Signals.scope(own, issuers: [F.op], field: "f", logger: logger).tokenIssuers == [F.op])
        let foreign = SSFReceiverConfiguration(issuer: F.tx, audience: "a")
        #expect(try Signals.scope(foreign, issuers: [F.op], field: "f", logger: logger).tokenIssuers.isEmpty)
    }
}
