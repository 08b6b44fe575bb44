import Logging
import NIOCore
import NIOPosix

/// A non-blocking, pipelining Redis client with one connection per event loop of its group, to one
/// server, to the master that Sentinel names, or to every master of a Redis Cluster.
///
/// A command sent `on` one of the group's loops uses that loop's connection and completes there with no
/// thread hop, so a data-plane check and its Redis round trip stay on one thread. Commands sent in the
/// same loop tick share one write. Connections are opened at once and re-opened after any failure with
/// capped exponential backoff; while one is down, its commands fail fast (fail closed), never wait forever.
///
/// In a cluster, each command goes to the master owning its key's slot; commands for several nodes
/// leave in parallel (one round trip per node), and MOVED and ASK replies are followed.
///
/// - Important: Call ``close()`` when done: connections keep reconnecting until then.
/// - Note: VetoRedis serves only Veto's own modules, so its API is `package`. This type stays
///   `public` only because public declarations of VetoStore (`RedisBlocklist`) name it.
public final class RedisClient: Sendable {
    package let configuration: RedisConfiguration
    package let eventLoopGroup: any EventLoopGroup
    private let router: any RedisRouter
    /// Set for a single server: the hot path then skips routing altogether.
    private let single: RedisNode?

    /// Redirects followed for one command before it fails; a slot moving twice while a command is in
    /// flight is rare, more means the cluster is misconfigured.
    static let maxRedirects = 5

    package init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "veto.redis")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        let tls: Result<RedisTLSContext, RedisError>? = configuration.tls.map { settings in
            Result(catching: { () throws(RedisError) -> RedisTLSContext in try RedisTLSContext(settings) })
        }
        switch configuration.topology {
        case .standalone:
            let node = RedisNode(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, tls: tls)
            self.router = StandaloneRouter(node: node)
            self.single = node
        case .sentinel(let masterName, let sentinels):
            self.router = SentinelRouter(
                configuration: configuration, masterName: masterName, sentinels: sentinels,
                eventLoopGroup: eventLoopGroup, logger: logger, tls: tls)
            self.single = nil
        case .cluster(let seeds):
            self.router = ClusterRouter(configuration: configuration, seeds: seeds, eventLoopGroup: eventLoopGroup, logger: logger, tls: tls)
            self.single = nil
        }
    }

    /// Checks what can be checked before connecting: the TLS files are readable and belong together.
    package static func validate(_ configuration: RedisConfiguration) throws(RedisError) {
        if let tls = configuration.tls { _ = try RedisTLSContext(tls) }
        if configuration.replicasToConfirm < 0 {
            throw RedisError(.invalidConfiguration, "the number of replicas to confirm writes must be 0 or more")
        }
    }

    /// Sends one command; the future completes on `eventLoop`. A Redis error reply fails it.
    package func send(_ command: RedisCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RedisValue> {
        send([command], on: eventLoop)[0]
    }

    /// Sends `commands` back to back, so they leave in one write and their replies come back in one read:
    /// one round trip (in a cluster, one per node owning their keys, in parallel). Each has its own future,
    /// completing on `eventLoop`.
    ///
    /// - Parameter read: The commands only read and may go to a replica when the configuration says so.
    package func send(_ commands: [RedisCommand], on eventLoop: any EventLoop, read: Bool = false) -> [EventLoopFuture<RedisValue>] {
        if let single { return single.send(commands, on: eventLoop) }
        var futures = [EventLoopFuture<RedisValue>?](repeating: nil, count: commands.count)
        var batches: [ObjectIdentifier: (node: RedisNode, indices: [Int])] = [:]
        for (index, command) in commands.enumerated() {
            switch router.route(key: command.routingKey, read: read) {
            case .node(let node):
                batches[ObjectIdentifier(node), default: (node, [])].indices.append(index)
            case .pending:
                futures[index] = router.whenReady(on: eventLoop, deadline: discoveryDeadline).flatMap {
                    self.send([command], on: eventLoop, read: read)[0]
                }
            case .failed(let error):
                futures[index] = eventLoop.makeFailedFuture(error)
            }
        }
        for (node, indices) in batches.values {
            let sent = node.send(indices.map { commands[$0] }, on: eventLoop)
            for (position, index) in indices.enumerated() {
                let command = commands[index]
                futures[index] = sent[position].flatMapError { error in
                    self.recover(from: error, command: command, node: node, redirects: 0, on: eventLoop)
                }
            }
        }
        return futures.map { $0! }
    }

    /// ``send(_:on:read:)`` with one callback for every reply, in order, on `eventLoop`, once the last
    /// one is in. For the check path: against a single server it costs no future per command.
    package func send(
        _ commands: [RedisCommand], on eventLoop: any EventLoop, read: Bool = false,
        then: @escaping @Sendable ([Result<RedisValue, any Error>]) -> Void
    ) {
        if let single {
            single.send(commands, on: eventLoop, then: then)
            return
        }
        // whenAllComplete never fails: each command's outcome is in its own Result.
        EventLoopFuture.whenAllComplete(send(commands, on: eventLoop, read: read), on: eventLoop).whenSuccess(then)
    }

    /// How long a command may wait for the first discovery (sentinels asked, or the slot map read)
    /// before it fails: a connect plus a command.
    private var discoveryDeadline: NIODeadline {
        .now() + configuration.connectTimeout + configuration.commandTimeout
    }

    /// Follows MOVED and ASK; anything else fails the command (and may tell Sentinel to look again).
    private func recover(
        from error: any Error, command: RedisCommand, node: RedisNode, redirects: Int,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisValue> {
        guard let redisError = error as? RedisError else { return eventLoop.makeFailedFuture(error) }
        guard let message = redisError.serverMessage, let redirect = ClusterRedirect(message),
            let target = router.follow(redirect, from: node)
        else {
            router.noteFailure(redisError)
            return eventLoop.makeFailedFuture(error)
        }
        guard redirects < Self.maxRedirects else {
            return eventLoop.makeFailedFuture(
                RedisError(.unavailable, "command \(command.name) was redirected \(redirects + 1) times; the cluster's slot map keeps changing"))
        }
        let future: EventLoopFuture<RedisValue>
        switch redirect.kind {
        case .moved:
            future = target.send([command], on: eventLoop)[0]
        case .ask:
            future = target.send([RedisCommand("ASKING"), command], on: eventLoop)[1]
        }
        return future.flatMapError { error in
            self.recover(from: error, command: command, node: target, redirects: redirects + 1, on: eventLoop)
        }
    }

    /// Sends `commands` on one connection, in order, to the node owning `routingKey`; a MOVED or ASK
    /// reply to any of them sends all of them again to the new node. For commands that only make sense
    /// together, such as a write and the `WAIT` that confirms it.
    func sendTogether(
        _ commands: [RedisCommand], routingKey: [UInt8]?, lane: RedisNode.Lane, on eventLoop: any EventLoop,
        target: RedisNode? = nil, asking: Bool = false, redirects: Int = 0
    ) -> EventLoopFuture<[Result<RedisValue, any Error>]> {
        let node: RedisNode
        if let target {
            node = target
        } else {
            switch router.route(key: routingKey, read: false) {
            case .node(let routed):
                node = routed
            case .pending:
                return router.whenReady(on: eventLoop, deadline: discoveryDeadline).flatMap {
                    self.sendTogether(commands, routingKey: routingKey, lane: lane, on: eventLoop)
                }
            case .failed(let error):
                return eventLoop.makeFailedFuture(error)
            }
        }
        var sent = node.send(asking ? [RedisCommand("ASKING")] + commands : commands, on: eventLoop, lane: lane)
        if asking { sent.removeFirst() }
        return EventLoopFuture.whenAllComplete(sent, on: eventLoop).flatMap { results in
            for result in results {
                guard case .failure(let error) = result, let redisError = error as? RedisError else { continue }
                guard let message = redisError.serverMessage, let redirect = ClusterRedirect(message),
                    let next = self.router.follow(redirect, from: node)
                else {
                    self.router.noteFailure(redisError)
                    continue
                }
                guard redirects < Self.maxRedirects else { break }
                return self.sendTogether(
                    commands, routingKey: routingKey, lane: lane, on: eventLoop, target: next,
                    asking: redirect.kind == .ask, redirects: redirects + 1)
            }
            return eventLoop.makeSucceededFuture(results)
        }
    }

    /// Runs `script` with EVALSHA; on NOSCRIPT, once more with EVAL.
    ///
    /// - Parameter confirmReplication: When the configuration asks for replicas to confirm writes,
    ///   a `WAIT` is sent right behind the script on the same connection, and the result is a failure
    ///   unless enough replicas confirmed in time. The script may then have run: callers retry, and
    ///   scripts must be idempotent.
    package func evaluate(
        _ script: RedisScript,
        keys: [[UInt8]],
        arguments: [[UInt8]],
        on eventLoop: any EventLoop,
        confirmReplication: Bool = false
    ) -> EventLoopFuture<RedisValue> {
        let tail = [Array(String(keys.count).utf8)] + keys + arguments
        let replicas = confirmReplication ? configuration.replicasToConfirm : 0
        let milliseconds = configuration.replicationTimeout.nanoseconds / 1_000_000
        let wait = replicas > 0 ? [RedisCommand("WAIT", [String(replicas), String(milliseconds)])] : []
        let lane: RedisNode.Lane = replicas > 0 ? .confirmedWrites : .main
        let key = keys.first
        let evalsha = RedisCommand("EVALSHA", [Array(script.sha1.utf8)] + tail)
        return sendTogether([evalsha] + wait, routingKey: key, lane: lane, on: eventLoop).flatMap { results in
            if case .failure(let error) = results[0], (error as? RedisError)?.serverErrorPrefix == "NOSCRIPT" {
                let eval = RedisCommand("EVAL", [Array(script.source.utf8)] + tail)
                return self.sendTogether([eval] + wait, routingKey: key, lane: lane, on: eventLoop)
            }
            return eventLoop.makeSucceededFuture(results)
        }.flatMapThrowing { results in
            let value = try results[0].get()
            if replicas > 0 {
                let confirmed = try results[1].get().integer ?? 0
                guard confirmed >= Int64(replicas) else {
                    throw RedisError(
                        .notReplicated,
                        "only \(confirmed) of \(replicas) replica\(replicas == 1 ? "" : "s") confirmed the write within \(milliseconds) ms; it is not acknowledged (retry: revocations are idempotent)"
                    )
                }
            }
            return value
        }
    }

    /// Every master: one for a single server or Sentinel, each master of a cluster. For commands that
    /// must run on every node, such as SCAN.
    package func masters(on eventLoop: any EventLoop) -> EventLoopFuture<[RedisServerHandle]> {
        router.masters(on: eventLoop, deadline: discoveryDeadline).map { nodes in
            nodes.map { RedisServerHandle(node: $0) }
        }
    }

    /// Counters summed over every connection.
    package func statistics() -> EventLoopFuture<RedisClientStatistics> {
        let loop = eventLoopGroup.any()
        return EventLoopFuture.whenAllSucceed(router.nodes.map { $0.statistics(on: loop) }, on: loop)
            .map { $0.reduce(RedisClientStatistics(), +) }
    }

    /// Closes every connection; pending commands fail with ``RedisError/Code/shutdown``.
    package func close() -> EventLoopFuture<Void> {
        router.close(on: eventLoopGroup.any())
    }
}

/// One server of a client's topology, to send commands that must reach that very server (SCAN).
package struct RedisServerHandle: Sendable {
    let node: RedisNode

    /// "127.0.0.1:7001".
    package var endpoint: RedisConfiguration.Endpoint { node.endpoint }

    /// Sends `command` to this server only; the future completes on `eventLoop`.
    package func send(_ command: RedisCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RedisValue> {
        node.send([command], on: eventLoop)[0]
    }
}

extension RedisClient {
    /// Sends one command from async code, on any loop of the group.
    package func send(_ command: RedisCommand) async throws -> RedisValue {
        try await send(command, on: eventLoopGroup.any()).get()
    }

    /// Sends `commands` pipelined (one round trip); throws the first error in command order.
    package func send(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        var values = [RedisValue]()
        for future in send(commands, on: eventLoopGroup.any()) {
            values.append(try await future.get())
        }
        return values
    }

    package func evaluate(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) async throws -> RedisValue {
        try await evaluate(script, keys: keys, arguments: arguments, on: eventLoopGroup.any()).get()
    }

    package func statistics() async throws -> RedisClientStatistics {
        try await statistics().get()
    }

    package func close() async {
        try? await close().get()
    }
}

extension RedisServerHandle {
    /// Sends `commands` to this server back to back (one round trip); futures complete on `eventLoop`.
    package func send(_ commands: [RedisCommand], on eventLoop: any EventLoop) -> [EventLoopFuture<RedisValue>] {
        node.send(commands, on: eventLoop)
    }

    /// The same, every reply in order with one resumption (no future per command): for batches of
    /// thousands, such as a replica's load.
    package func results(of commands: [RedisCommand], on eventLoop: any EventLoop) async -> [Result<RedisValue, any Error>] {
        await withCheckedContinuation { continuation in
            node.send(commands, on: eventLoop) { continuation.resume(returning: $0) }
        }
    }
}
