import VetoCore

/// Bounds on what a client may send, and how long it may take.
public struct Limits: Sendable {
    public var maxTokenBytes = 8 * 1024
    public var maxBodyBytes = 64 * 1024
    public var maxHeaderBytes = 16 * 1024
    /// Budget for all identity headers on an allow (`X-Auth-*` and mapped claims).
    public var identityHeaderBytes = 4 * 1024
    public var idleTimeout: Double = 60
    public var requestTimeout: Double = 10
    /// Requests a client may pipeline on one connection before Veto stops reading from it.
    public var maxPipelinedRequests = 16
    /// Open client connections; beyond it a new connection is accepted and closed at once.
    public var maxConnections = 10_000

    public init() {}
}
