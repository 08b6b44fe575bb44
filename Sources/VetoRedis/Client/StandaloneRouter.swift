import NIOCore

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
