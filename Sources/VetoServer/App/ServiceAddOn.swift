import CoreMetrics
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import VetoStore

/// What another module may add to the service (the identity-provider receivers of VetoSignals):
/// control-plane routes and background services. The analogue of `frontDoors:` for the control plane.
///
/// - Important: Routes added here are public: they skip the admin group and its token check, so each
///   route authenticates its callers itself.
package struct ServiceAddOn: Sendable {
    /// Adds routes to the control plane's router, before the unmatched-route answer.
    package var routes: @Sendable (Router<BasicRequestContext>) -> Void
    /// Run in the application's service group: they start with the server and stop on its graceful shutdown.
    package var services: [any Service]

    package init(routes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in }, services: [any Service] = []) {
        self.routes = routes
        self.services = services
    }
}

/// The parts of the built service an add-on may use.
package struct ServiceAddOnContext: Sendable {
    package let configuration: ServiceConfiguration
    /// The configured issuers, with their key providers (fixed files or a refreshed JWKS).
    package let issuers: [ConfiguredIssuer]
    package let blocklist: any Blocklist
    /// The factory of the service's Prometheus registry: metrics made with it appear at `/metrics`.
    package let metricsFactory: any MetricsFactory
    package let logger: Logger
    package let eventLoopGroup: any EventLoopGroup

    package init(
        configuration: ServiceConfiguration, issuers: [ConfiguredIssuer], blocklist: any Blocklist, metricsFactory: any MetricsFactory,
        logger: Logger, eventLoopGroup: any EventLoopGroup
    ) {
        self.configuration = configuration
        self.issuers = issuers
        self.blocklist = blocklist
        self.metricsFactory = metricsFactory
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }
}
