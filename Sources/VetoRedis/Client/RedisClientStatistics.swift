/// Counters of a client, summed over its connections. They make pipelining measurable: compare
/// ``commandsSent`` with ``writeBatches`` and ``readEvents``.
package struct RedisClientStatistics: Sendable, Equatable {
    /// Commands written to a socket, handshakes (AUTH, SELECT, PING) excluded.
    package var commandsSent = 0
    /// Flushes that wrote pending commands: each is one `writev` carrying one or more commands.
    package var writeBatches = 0
    /// Socket reads that delivered reply bytes (NIO `channelRead`s); one read may carry many replies.
    package var readEvents = 0
    /// Replies matched to commands, handshakes included.
    package var replies = 0
    package var timeouts = 0
    /// Commands refused because a connection's queue was full.
    package var overloads = 0
    /// Connections that completed their handshake.
    package var connects = 0
    package var failedConnects = 0

    package init() {}

    static func + (lhs: Self, rhs: Self) -> Self {
        var sum = lhs
        sum.commandsSent += rhs.commandsSent
        sum.writeBatches += rhs.writeBatches
        sum.readEvents += rhs.readEvents
        sum.replies += rhs.replies
        sum.timeouts += rhs.timeouts
        sum.overloads += rhs.overloads
        sum.connects += rhs.connects
        sum.failedConnects += rhs.failedConnects
        return sum
    }
}
