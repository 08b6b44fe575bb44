import VetoCore

/// Bounds on what a client may send, and how long it may take.
package struct Limits: Sendable {
    package var maxTokenBytes = 8 * 1024
    package var maxBodyBytes = 64 * 1024
    package var maxHeaderBytes = 16 * 1024
    /// Budget for all identity headers on an allow (`X-Auth-*` and mapped claims).
    package var identityHeaderBytes = 4 * 1024
    package var idleTimeout: Double = 60
    package var requestTimeout: Double = 10
    /// Requests a client may pipeline on one connection before Veto stops reading from it.
    package var maxPipelinedRequests = 16
    /// Open client connections; beyond it a new connection is accepted and closed at once.
    package var maxConnections = 10_000

    package init() {}
}
