import NIOCore

/// Where the commands of a ``RedisClient`` go: one server, the master that Sentinel names, or the
/// Redis Cluster node that owns a key's slot.
protocol RedisRouter: AnyObject, Sendable {
    /// The node for a command on `key` (`nil`: any master), or why there is none yet.
    func route(key: [UInt8]?, read: Bool) -> RedisRoute
    /// Resolves once a node is known (first discovery), failing at `deadline`.
    func whenReady(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<Void>
    /// The node to resend to after a MOVED or ASK from `node`; `nil` outside a cluster.
    func follow(_ redirect: ClusterRedirect, from node: RedisNode) -> RedisNode?
    /// Sees every error reply and lost connection, to notice a failover (READONLY) early.
    func noteFailure(_ error: RedisError)
    /// Every master, ordered: what SCAN has to walk to see every key.
    func masters(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<[RedisNode]>
    /// Every node with open connections (statistics).
    var nodes: [RedisNode] { get }
    func close(on eventLoop: any EventLoop) -> EventLoopFuture<Void>
}
