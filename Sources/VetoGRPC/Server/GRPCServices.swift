import Logging
import Synchronization
import VetoServer

/// What every connection of the gRPC server shares, built once at start-up.
final class GRPCServices: Sendable {
    let gate: GatewayCheck
    let stripAuthorization: Bool
    let settings: GRPCSettings
    /// Open connections on the gRPC port (`settings.maxConnections`).
    let connections: ConnectionLimit
    let logger: Logger
    private let draining = Atomic<Bool>(false)

    init(gate: GatewayCheck, stripAuthorization: Bool, settings: GRPCSettings, logger: Logger) {
        self.gate = gate
        self.stripAuthorization = stripAuthorization
        self.settings = settings
        self.connections = ConnectionLimit(maximum: settings.maxConnections)
        self.logger = logger
    }

    /// The server drains (graceful shutdown): health answers NOT_SERVING from now on.
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func beginDraining() {
        draining.store(true, ordering: .relaxed)
    }
}
