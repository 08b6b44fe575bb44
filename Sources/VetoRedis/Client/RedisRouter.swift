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

enum RedisRoute {
    case node(RedisNode)
    /// The topology is not known yet: wait for ``RedisRouter/whenReady(on:deadline:)``.
    case pending
    case failed(RedisError)
}

/// One server, always.
final class StandaloneRouter: RedisRouter {
    let node: RedisNode

    init(node: RedisNode) {
        self.node = node
    }

    func route(key: [UInt8]?, read: Bool) -> RedisRoute { .node(node) }
    func whenReady(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<Void> { eventLoop.makeSucceededVoidFuture() }
    func follow(_ redirect: ClusterRedirect, from node: RedisNode) -> RedisNode? { nil }
    func noteFailure(_ error: RedisError) {}
    func masters(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<[RedisNode]> { eventLoop.makeSucceededFuture([node]) }
    var nodes: [RedisNode] { [node] }
    func close(on eventLoop: any EventLoop) -> EventLoopFuture<Void> { node.close(on: eventLoop) }
}

/// Promises waiting for a topology, failed at their deadline if it does not come.
struct TopologyWaiters {
    private var waiting: [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)] = []

    mutating func add(on eventLoop: any EventLoop, deadline: NIODeadline, what: String) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let timeout = eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(RedisError(.unavailable, "no \(what) known yet"))
        }
        waiting.append((promise, timeout))
        return promise.futureResult
    }

    /// Takes every waiter out; complete them outside the lock.
    mutating func drain() -> [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)] {
        defer { waiting.removeAll() }
        return waiting
    }

    static func succeed(_ drained: [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)]) {
        for (promise, timeout) in drained {
            timeout.cancel()
            promise.succeed()
        }
    }
}
