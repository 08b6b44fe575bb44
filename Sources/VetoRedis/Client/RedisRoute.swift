import NIOCore

enum RedisRoute {
    case node(RedisNode)
    /// The topology is not known yet: wait for ``RedisRouter/whenReady(on:deadline:)``.
    case pending
    case failed(RedisError)
}
