import Logging
import NIOCore
import NIOPosix

/// A non-blocking, pipelining Redis client with one connection per event loop of its group.
///
/// A command sent `on` one of the group's loops uses that loop's connection and completes there with no
/// thread hop, so a data-plane check and its Redis round trip stay on one thread. Commands sent in the
/// same loop tick share one write. Connections are opened at once and re-opened after any failure with
/// capped exponential backoff; while one is down, its commands fail fast (fail closed), never wait forever.
///
/// - Important: Call ``close()`` when done: connections keep reconnecting until then.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    public let eventLoopGroup: any EventLoopGroup
    private let connections: [RedisConnection]
    private let connectionsByLoop: [ObjectIdentifier: RedisConnection]

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "veto.redis")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var connections = [RedisConnection]()
        var byLoop = [ObjectIdentifier: RedisConnection]()
        for loop in eventLoopGroup.makeIterator() {
            let connection = RedisConnection(eventLoop: loop, configuration: configuration, logger: logger)
            connections.append(connection)
            byLoop[ObjectIdentifier(loop)] = connection
        }
        precondition(!connections.isEmpty, "an EventLoopGroup without event loops")
        self.connections = connections
        self.connectionsByLoop = byLoop
        for connection in connections { connection.start() }
    }

    /// Sends one command; the future completes on `eventLoop`. A Redis error reply fails it.
    public func send(_ command: RedisCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RedisValue> {
        send([command], on: eventLoop)[0]
    }

    /// Sends `commands` back to back on one connection, so they leave in one write and their replies
    /// come back in one read: one round trip. Each has its own future, completing on `eventLoop`.
    public func send(_ commands: [RedisCommand], on eventLoop: any EventLoop) -> [EventLoopFuture<RedisValue>] {
        let connection = connection(for: eventLoop)
        let futures = connection.send(commands)
        guard connection.eventLoop !== eventLoop else { return futures }
        return futures.map { $0.hop(to: eventLoop) }
    }

    /// Runs `script` with EVALSHA; on NOSCRIPT, once more with EVAL.
    public func evaluate(
        _ script: RedisScript,
        keys: [[UInt8]],
        arguments: [[UInt8]],
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisValue> {
        let tail = [Array(String(keys.count).utf8)] + keys + arguments
        return send(RedisCommand("EVALSHA", [Array(script.sha1.utf8)] + tail), on: eventLoop).flatMapError { error in
            guard let redisError = error as? RedisError, redisError.serverErrorPrefix == "NOSCRIPT" else {
                return eventLoop.makeFailedFuture(error)
            }
            return self.send(RedisCommand("EVAL", [Array(script.source.utf8)] + tail), on: eventLoop)
        }
    }

    /// Counters summed over every connection.
    public func statistics() -> EventLoopFuture<RedisClientStatistics> {
        let loop = connections[0].eventLoop
        return EventLoopFuture.whenAllSucceed(connections.map { $0.statistics() }, on: loop)
            .map { $0.reduce(RedisClientStatistics(), +) }
    }

    /// Closes every connection; pending commands fail with ``RedisError/Code/shutdown``.
    public func close() -> EventLoopFuture<Void> {
        let loop = connections[0].eventLoop
        return EventLoopFuture.andAllComplete(connections.map { $0.close() }, on: loop)
    }

    private func connection(for eventLoop: any EventLoop) -> RedisConnection {
        if let own = connectionsByLoop[ObjectIdentifier(eventLoop)] { return own }
        // A loop outside the group: spread such callers by loop identity, then hop the reply back.
        let index = Int(UInt(bitPattern: ObjectIdentifier(eventLoop).hashValue) % UInt(connections.count))
        return connections[index]
    }
}

extension RedisClient {
    /// Sends one command from async code, on any loop of the group.
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await send(command, on: eventLoopGroup.any()).get()
    }

    /// Sends `commands` pipelined (one round trip); throws the first error in command order.
    public func send(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        var values = [RedisValue]()
        for future in send(commands, on: eventLoopGroup.any()) {
            values.append(try await future.get())
        }
        return values
    }

    public func evaluate(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) async throws -> RedisValue {
        try await evaluate(script, keys: keys, arguments: arguments, on: eventLoopGroup.any()).get()
    }

    public func statistics() async throws -> RedisClientStatistics {
        try await statistics().get()
    }

    public func close() async {
        try? await close().get()
    }
}
