import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import VetoCore
import VetoServer

/// The identity-provider receivers as a service add-on: `POST /oidc/backchannel-logout`,
/// `POST /ssf/events`, and the Shared Signals receivers' background work. Every configuration mistake
/// is a `ConfigurationError` naming the field, before anything listens.
package enum Signals {
    /// Largest SET accepted: larger than an access token may be (a token-claims-change event carries claims).
    static let maxSETBytes = 32 * 1024

    package static func addOn(_ context: ServiceAddOnContext) async throws -> ServiceAddOn {
        let configuration = context.configuration
        let limits = configuration.limits
        let processor = SignalProcessor(
            .init(
                effects: BlocklistSignalEffects(blocklist: context.blocklist, metricsFactory: context.metricsFactory),
                metrics: SignalMetrics(factory: context.metricsFactory),
                log: SignalLog(logger: context.logger), eventLoopGroup: context.eventLoopGroup, clock: { Date().timeIntervalSince1970 }))
        let logoutIssuers = context.issuers.compactMap { issuer -> LogoutIssuer? in
            guard let logout = issuer.configuration.backchannelLogout else { return nil }
            return LogoutIssuer(
                name: issuer.name, audiences: logout.audiences, keys: issuer.keys, leeway: issuer.configuration.leeway,
                maxTokenBytes: limits.maxTokenBytes)
        }
        var services: [any Service] = []
        var receivers: [SSFReceiver] = []
        if !configuration.ssf.receivers.isEmpty {
            let client = HTTPClient(eventLoopGroupProvider: .shared(context.eventLoopGroup), configuration: .init(redirectConfiguration: .disallow))
            do {
                receivers = try assemble(configuration, issuers: context.issuers.map(\.name), client: client, context: context)
            } catch {
                try? await client.shutdown()
                throw error
            }
            let transmitter = TransmitterClient(client: client, logger: context.logger)
            await firstContact(receivers, transmitter: transmitter, context: context)
            services.append(
                SignalsService(
                    receivers: receivers, processor: processor, transmitter: transmitter, metricsFactory: context.metricsFactory,
                    logger: context.logger))
        }
        let routes = Self.routes(
            processor: processor, logout: LogoutTokenValidator(issuers: logoutIssuers, maxTokenBytes: limits.maxTokenBytes),
            push: receivers.compactMap { receiver in
                receiver.configuration.pushAuthorization.map { (authorization: $0, validator: receiver.validator) }
            },
            maxBodyBytes: limits.maxBodyBytes)
        return ServiceAddOn(routes: routes, services: services)
    }

    /// `POST /oidc/backchannel-logout` and `POST /ssf/events`, registered whether or not anything is
    /// configured (an unconfigured issuer is `issuer_unknown`, an unmatched push `401`).
    /// - Parameter push: each push receiver's exact `Authorization` value, and its SET rules.
    package static func routes(
        processor: SignalProcessor, logout: LogoutTokenValidator, push: [(authorization: String, validator: SETValidator)], maxBodyBytes: Int
    ) -> @Sendable (Router<BasicRequestContext>) -> Void {
        let logout = BackchannelLogoutRoute(processor: processor, validator: logout, maxBodyBytes: maxBodyBytes)
        let push = PushRoute(
            processor: processor, receivers: push.map { PushRoute.Receiver(authorization: Array($0.authorization.utf8), validator: $0.validator) },
            maxBodyBytes: maxBodyBytes)
        return { router in
            logout.register(on: router)
            push.register(on: router)
        }
    }

    /// The receivers, their fixed keys loaded and their JWKS set up.
    static func assemble(
        _ configuration: ServiceConfiguration, issuers: [String], client: HTTPClient, context: ServiceAddOnContext
    ) throws -> [SSFReceiver] {
        let maxSETBytes = min(max(configuration.limits.maxTokenBytes, Self.maxSETBytes), configuration.limits.maxBodyBytes)
        return try configuration.ssf.receivers.enumerated().map { index, settings in
            let field = "ssf.receivers[\(index)]"
            let scope = try scope(settings, issuers: issuers, field: field, logger: context.logger)
            var keyFiles = IssuerConfiguration(issuer: settings.issuer)
            keyFiles.keys = settings.keys
            keyFiles.algorithms = settings.algorithms
            let fixed = try IssuerAssembly.loadKeys(keyFiles, field: field, logger: context.logger)
            var remote: IssuerKeys?
            if let url = settings.jwksURL {
                do {
                    remote = try SSFReceiver.issuerKeys(
                        url, configuration: settings, fixed: fixed, client: client, logger: context.logger, metricsFactory: context.metricsFactory)
                } catch {
                    throw ConfigurationError("\(field).jwks_url", "\(error)")
                }
            }
            return SSFReceiver(
                configuration: settings, keys: ReceiverKeys(fixed: fixed, remote: remote), scope: scope, maxTokenBytes: maxSETBytes, field: field)
        }
    }

    /// Where a receiver's subjects may land: `iss_sub` subjects in any configured issuer; opaque and
    /// email subjects in `token_issuers` (each a configured issuer), by default the transmitter's
    /// own issuer if it is one.
    package static func scope(_ settings: SSFReceiverConfiguration, issuers: [String], field: String, logger: Logger) throws -> SubjectScope {
        if let explicit = settings.tokenIssuers {
            for (position, name) in explicit.enumerated() where !issuers.containsExactly(name) {
                throw ConfigurationError(
                    "\(field).token_issuers[\(position)]", "\(JSONWriter.quoted(name)) is not a configured issuer (issuers[].issuer, byte for byte)")
            }
            return SubjectScope(configuredIssuers: issuers, tokenIssuers: explicit)
        }
        guard issuers.containsExactly(settings.issuer) else {
            logger.warning(
                "the transmitter is not a configured issuer and token_issuers is not set: its opaque and email subjects will be refused",
                metadata: ["veto.signal.iss": .string(settings.issuer)])
            return SubjectScope(configuredIssuers: issuers, tokenIssuers: [])
        }
        return SubjectScope(configuredIssuers: issuers, tokenIssuers: [settings.issuer])
    }

    /// One attempt at each receiver's metadata and keys before the service listens, so a transmitter
    /// that is up finds its first push judged; failures are left to the background retries.
    static func firstContact(_ receivers: [SSFReceiver], transmitter: TransmitterClient, context: ServiceAddOnContext) async {
        await withTaskGroup(of: Void.self) { group in
            for receiver in receivers {
                group.addTask {
                    let setup = StreamSetup(
                        receiver: receiver, transmitter: transmitter, metricsFactory: context.metricsFactory, logger: context.logger)
                    try? await setup.discover()
                    try? await receiver.keys.issuerKeys?.refresh()
                }
            }
        }
    }
}
