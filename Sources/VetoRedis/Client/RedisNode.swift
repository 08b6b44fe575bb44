import Logging
import NIOCore

/// Connections to one Redis server, one per event loop of the group: a command sent `on` a loop of
/// the group uses that loop's connection and completes there with no thread hop.
///
/// When writes must be confirmed by replicas (`WAIT`), they get connections of their own: `WAIT`
/// blocks the connection it is sent on, and checks must not queue behind it.
final class RedisNode: Sendable {
    enum Lane: Sendable {
        /// Reads and plain writes.
        case main
        /// Writes followed by `WAIT`.
        case confirmedWrites
    }

    let endpoint: RedisConfiguration.Endpoint
    private let main: ConnectionSet
    private let confirmedWrites: ConnectionSet?

    init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger,
        tls: Result<RedisTLSContext, RedisError>?, hooks: RedisConnectionHooks = RedisConnectionHooks()
    ) {
        self.endpoint = configuration.endpoint
        self.main = ConnectionSet(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, tls: tls, hooks: hooks)
        if configuration.replicasToConfirm > 0 {
            var writes = configuration
            // The reply to WAIT may take the whole replication timeout on top of the command itself.
            writes.commandTimeout = configuration.commandTimeout + configuration.replicationTimeout
            writes.clientName = configuration.clientName.map { "\($0)-writes" }
            self.confirmedWrites = ConnectionSet(
                configuration: writes, eventLoopGroup: eventLoopGroup, logger: logger, tls: tls,
                hooks: RedisConnectionHooks())
        } else {
            self.confirmedWrites = nil
        }
    }

    /// Sends `commands` back to back on one connection (one round trip); futures complete on `eventLoop`.
    func send(_ commands: [RedisCommand], on eventLoop: any EventLoop, lane: Lane = .main) -> [EventLoopFuture<RedisValue>] {
        let connection = connection(for: eventLoop, lane: lane)
        let futures = connection.send(commands)
        guard connection.eventLoop !== eventLoop else { return futures }
        return futures.map { $0.hop(to: eventLoop) }
    }

    /// The same with one callback for every reply, in order, on `eventLoop`.
    func send(
        _ commands: [RedisCommand], on eventLoop: any EventLoop, lane: Lane = .main,
        then: @escaping @Sendable ([Result<RedisValue, any Error>]) -> Void
    ) {
        let connection = connection(for: eventLoop, lane: lane)
        guard connection.eventLoop !== eventLoop else {
            connection.send(commands, then: then)
            return
        }
        connection.send(commands) { results in eventLoop.execute { then(results) } }
    }

    /// The lane's connection on `eventLoop` (confirmed writes share the main one when not configured).
    private func connection(for eventLoop: any EventLoop, lane: Lane) -> RedisConnection {
        (lane == .confirmedWrites ? (confirmedWrites ?? main) : main).connection(for: eventLoop)
    }

    func statistics(on eventLoop: any EventLoop) -> EventLoopFuture<RedisClientStatistics> {
        let all = main.connections + (confirmedWrites?.connections ?? [])
        return EventLoopFuture.whenAllSucceed(all.map { $0.statistics() }, on: eventLoop)
            .map { $0.reduce(RedisClientStatistics(), +) }
    }

    func close(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let all = main.connections + (confirmedWrites?.connections ?? [])
        return EventLoopFuture.andAllComplete(all.map { $0.close() }, on: eventLoop)
    }

    private struct ConnectionSet: Sendable {
        let connections: [RedisConnection]
        let byLoop: [ObjectIdentifier: RedisConnection]

        init(
            configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger,
            tls: Result<RedisTLSContext, RedisError>?, hooks: RedisConnectionHooks
        ) {
            var connections = [RedisConnection]()
            var byLoop = [ObjectIdentifier: RedisConnection]()
            for loop in eventLoopGroup.makeIterator() {
                let connection = RedisConnection(eventLoop: loop, configuration: configuration, logger: logger, tls: tls, hooks: hooks)
                connections.append(connection)
                byLoop[ObjectIdentifier(loop)] = connection
            }
            precondition(!connections.isEmpty, "an EventLoopGroup without event loops")
            self.connections = connections
            self.byLoop = byLoop
            for connection in connections { connection.start() }
        }

        func connection(for eventLoop: any EventLoop) -> RedisConnection {
            if let own = byLoop[ObjectIdentifier(eventLoop)] { return own }
            // A loop outside the group: spread such callers by loop identity, then hop the reply back.
            let index = Int(UInt(bitPattern: ObjectIdentifier(eventLoop).hashValue) % UInt(connections.count))
            return connections[index]
        }
    }
}
