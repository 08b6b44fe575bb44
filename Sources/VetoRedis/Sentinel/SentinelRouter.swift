import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Follows the master that Redis Sentinel names.
///
/// - Discovery asks the sentinels in turn `SENTINEL get-master-addr-by-name`; the first that knows
///   moves to the front of the list. The master's connections verify `ROLE` in every handshake, so a
///   server that is no longer the master is never used, even if a sentinel still names it.
/// - Failovers are followed three ways: a subscription to `+switch-master` on every sentinel (the
///   switch in one message), a new discovery whenever a master connection fails or a write meets
///   READONLY, and a poll every ``pollInterval`` in case both were missed.
/// - During the switch, commands fail (the service answers 503): nothing is queued for the new
///   master that the old one might have acknowledged.
final class SentinelRouter: RedisRouter {
    static let pollInterval = TimeAmount.seconds(1)
    /// Least time between two discoveries caused by failures.
    static let retryInterval = TimeAmount.milliseconds(100)

    private let configuration: RedisConfiguration
    private let masterName: String
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let tls: Result<RedisTLSContext, RedisError>?

    private struct State {
        var master: RedisNode?
        var replica: RedisNode?
        /// The replica's connections are up (set by its hooks); reads go to the master until they are.
        var replicaReady = false
        var sentinels: [RedisConfiguration.Endpoint]
        var queries: [RedisConfiguration.Endpoint: RedisConnection] = [:]
        var subscriptions: [RedisConnection] = []
        var discovering = false
        var again = false
        var waiters = TopologyWaiters()
        var poll: RepeatedTask?
        var closed = false
    }

    private let state: NIOLockedValueBox<State>

    init(
        configuration: RedisConfiguration, masterName: String, sentinels: [RedisConfiguration.Endpoint],
        eventLoopGroup: any EventLoopGroup, logger: Logger, tls: Result<RedisTLSContext, RedisError>?
    ) {
        self.configuration = configuration
        self.masterName = masterName
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.tls = tls
        self.state = NIOLockedValueBox(State(sentinels: sentinels))
        subscribe(to: sentinels)
        requestDiscovery()
        let poll = eventLoopGroup.any().scheduleRepeatedTask(initialDelay: Self.pollInterval, delay: Self.pollInterval) { [weak self] _ in
            self?.requestDiscovery()
        }
        state.withLockedValue { $0.poll = poll }
    }

    // MARK: Routing

    func route(key: [UInt8]?, read: Bool) -> RedisRoute {
        state.withLockedValue { state in
            if read, state.replicaReady, let replica = state.replica { return .node(replica) }
            if let master = state.master { return .node(master) }
            return state.closed ? .failed(RedisError(.shutdown, "the Redis client is closed")) : .pending
        }
    }

    func whenReady(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<Void> {
        state.withLockedValue { state in
            if state.master != nil { return eventLoop.makeSucceededVoidFuture() }
            return state.waiters.add(on: eventLoop, deadline: deadline, what: "master for '\(masterName)' (no sentinel has answered)")
        }
    }

    func follow(_ redirect: ClusterRedirect, from node: RedisNode) -> RedisNode? { nil }

    func noteFailure(_ error: RedisError) {
        // A demoted master answers writes with READONLY while still reachable.
        if error.serverErrorPrefix == "READONLY" || error.code == .unavailable {
            requestDiscovery()
        }
    }

    func masters(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<[RedisNode]> {
        whenReady(on: eventLoop, deadline: deadline).flatMapThrowing {
            guard let master = self.state.withLockedValue({ $0.master }) else {
                throw RedisError(.unavailable, "no master known for '\(self.masterName)'")
            }
            return [master]
        }
    }

    var nodes: [RedisNode] {
        state.withLockedValue { [$0.master, $0.replica].compactMap { $0 } }
    }

    func close(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let (nodes, connections, waiters) = state.withLockedValue { state in
            state.closed = true
            state.poll?.cancel()
            let nodes = [state.master, state.replica].compactMap { $0 }
            state.master = nil
            state.replica = nil
            let connections = Array(state.queries.values) + state.subscriptions
            state.queries = [:]
            state.subscriptions = []
            return (nodes, connections, state.waiters.drain())
        }
        for (promise, timeout) in waiters {
            timeout.cancel()
            promise.fail(RedisError(.shutdown, "the Redis client is closed"))
        }
        let closing = nodes.map { $0.close(on: eventLoop) } + connections.map { $0.close() }
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }

    // MARK: Discovery

    /// Starts a discovery, or asks the running one to go once more.
    private func requestDiscovery() {
        let start = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            if state.discovering {
                state.again = true
                return false
            }
            state.discovering = true
            return true
        }
        guard start else { return }
        Task { await self.discoverUntilSettled() }
    }

    private func discoverUntilSettled() async {
        while true {
            state.withLockedValue { $0.again = false }
            let found = await discover()
            let next = state.withLockedValue { state -> Bool in
                if state.closed || (found && !state.again) {
                    state.discovering = false
                    return false
                }
                return true
            }
            guard next else { return }
            try? await Task.sleep(nanoseconds: UInt64(Self.retryInterval.nanoseconds))
        }
    }

    /// Asks each sentinel in turn; installs the first answer. `false` if none answered.
    private func discover() async -> Bool {
        let sentinels = state.withLockedValue { $0.sentinels }
        for sentinel in sentinels {
            let reply: RedisValue
            do {
                reply = try await query(sentinel, RedisCommand("SENTINEL", "get-master-addr-by-name", masterName))
            } catch {
                logger.debug("sentinel \(sentinel) did not answer: \(error)")
                continue
            }
            guard let parts = reply.array, parts.count == 2, let host = parts[0].string,
                let portText = parts[1].string, let port = Int(portText)
            else {
                logger.debug("sentinel \(sentinel) does not know the master '\(masterName)'")
                continue
            }
            var replica: RedisConfiguration.Endpoint?
            if configuration.readFrom == .replica,
                let replicas = try? await query(sentinel, RedisCommand("SENTINEL", "replicas", masterName))
            {
                replica = Self.healthyReplica(replicas)
            }
            state.withLockedValue { state in
                if let index = state.sentinels.firstIndex(of: sentinel), index > 0 {
                    state.sentinels.remove(at: index)
                    state.sentinels.insert(sentinel, at: 0)
                }
            }
            install(master: .tcp(host: host, port: port), replica: replica)
            return true
        }
        let first = state.withLockedValue { $0.master == nil }
        if first {
            logger.warning("no sentinel named a master for '\(masterName)' yet", metadata: ["redis": "\(configuration)"])
        }
        return false
    }

    /// Picks the first replica that sentinels consider up and in sync.
    static func healthyReplica(_ reply: RedisValue) -> RedisConfiguration.Endpoint? {
        for entry in reply.array ?? [] {
            guard let fields = entry.array else { continue }
            var map: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count {
                if let key = fields[index].string, let value = fields[index + 1].string { map[key] = value }
                index += 2
            }
            let flags = map["flags", default: ""].split(separator: ",")
            guard !flags.contains("s_down"), !flags.contains("o_down"), !flags.contains("disconnected"),
                map["master-link-status"] == "ok", let host = map["ip"], let port = map["port"].flatMap(Int.init)
            else { continue }
            return .tcp(host: host, port: port)
        }
        return nil
    }

    /// Swaps in new nodes when the master (or the chosen replica) changed; closes the old ones.
    private func install(master: RedisConfiguration.Endpoint, replica: RedisConfiguration.Endpoint?) {
        let (old, waiters, previous, replicaChanged) = state.withLockedValue {
            state -> ([RedisNode], [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)], RedisConfiguration.Endpoint?, Bool) in
            guard !state.closed else { return ([], [], nil, false) }
            var old: [RedisNode] = []
            let previous = state.master?.endpoint
            if state.master?.endpoint != master {
                if let current = state.master { old.append(current) }
                state.master = makeNode(master, role: "master")
            }
            var replicaChanged = false
            if configuration.readFrom == .replica, state.replica?.endpoint != replica {
                if let current = state.replica { old.append(current) }
                state.replica = replica.map { makeNode($0, role: "slave") }
                state.replicaReady = false
                replicaChanged = true
            }
            return (old, state.waiters.drain(), previous, replicaChanged)
        }
        if replicaChanged {
            if let replica {
                logger.info("checks read from replica \(replica) of '\(masterName)'", metadata: ["redis": "\(configuration)"])
            } else {
                logger.warning("no replica of '\(masterName)' is up and in sync; checks read the master", metadata: ["redis": "\(configuration)"])
            }
        }
        if previous != master {
            if let previous {
                logger.warning("Redis master for '\(masterName)' moved from \(previous) to \(master)", metadata: ["redis": "\(configuration)"])
            } else {
                logger.info("Redis master for '\(masterName)' is \(master)", metadata: ["redis": "\(configuration)"])
            }
        }
        TopologyWaiters.succeed(waiters)
        let loop = eventLoopGroup.any()
        for node in old { _ = node.close(on: loop) }
    }

    private func makeNode(_ endpoint: RedisConfiguration.Endpoint, role: String) -> RedisNode {
        var node = configuration
        node.endpoint = endpoint
        node.topology = .standalone
        node.requiredRole = role
        var hooks = RedisConnectionHooks(onFailure: { [weak self] _ in self?.requestDiscovery() })
        if role == "slave" {
            node.replicasToConfirm = 0  // never written to: no connections for confirmed writes
            // A replica that cannot be reached, or is no longer a replica, stops serving reads at once;
            // the master serves them (fresher, never staler) until a replica is back.
            hooks.onReady = { [weak self] in self?.replicaState(endpoint, ready: true) }
            hooks.onFailure = { [weak self] _ in
                self?.replicaState(endpoint, ready: false)
                self?.requestDiscovery()
            }
        }
        return RedisNode(configuration: node, eventLoopGroup: eventLoopGroup, logger: logger, tls: tls, hooks: hooks)
    }

    private func replicaState(_ endpoint: RedisConfiguration.Endpoint, ready: Bool) {
        state.withLockedValue { state in
            if state.replica?.endpoint == endpoint { state.replicaReady = ready }
        }
    }

    // MARK: Talking to sentinels

    /// Configuration for a sentinel: same TLS, no database, no credentials (those are the master's).
    private func sentinelConfiguration(_ endpoint: RedisConfiguration.Endpoint) -> RedisConfiguration {
        var sentinel = configuration
        sentinel.endpoint = endpoint
        sentinel.topology = .standalone
        sentinel.username = nil
        sentinel.password = nil
        sentinel.database = 0
        sentinel.replicasToConfirm = 0
        sentinel.requiredRole = nil
        sentinel.clientName = nil
        return sentinel
    }

    /// One command on a long-lived connection to `sentinel` (opened on first use).
    private func query(_ sentinel: RedisConfiguration.Endpoint, _ command: RedisCommand) async throws -> RedisValue {
        let connection = state.withLockedValue { state -> RedisConnection? in
            guard !state.closed else { return nil }
            if let existing = state.queries[sentinel] { return existing }
            let connection = RedisConnection(
                eventLoop: eventLoopGroup.any(), configuration: sentinelConfiguration(sentinel),
                logger: Logger(label: "veto.redis.sentinel") { _ in SwiftLogNoOpLogHandler() }, tls: tls)
            connection.start()
            state.queries[sentinel] = connection
            return connection
        }
        guard let connection else { throw RedisError(.shutdown, "the Redis client is closed") }
        return try await connection.send([command])[0].get()
    }

    /// A `+switch-master` subscription on every sentinel, renewed after every reconnect.
    private func subscribe(to sentinels: [RedisConfiguration.Endpoint]) {
        var connections: [RedisConnection] = []
        for sentinel in sentinels {
            let box = NIOLockedValueBox<RedisConnection?>(nil)
            let hooks = RedisConnectionHooks(
                onReady: { [weak self] in
                    guard let connection = box.withLockedValue({ $0 }) else { return }
                    _ = connection.send([RedisCommand("SUBSCRIBE", "+switch-master")])
                    // Messages sent while this subscription was down are lost: look again.
                    self?.requestDiscovery()
                },
                onPush: { [weak self] message in self?.received(message) })
            let connection = RedisConnection(
                eventLoop: eventLoopGroup.any(), configuration: sentinelConfiguration(sentinel),
                logger: Logger(label: "veto.redis.sentinel") { _ in SwiftLogNoOpLogHandler() },
                tls: tls, hooks: hooks)
            box.withLockedValue { $0 = connection }
            connections.append(connection)
        }
        state.withLockedValue { $0.subscriptions = connections }
        for connection in connections { connection.start() }
    }

    /// `["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]`.
    private func received(_ message: RedisValue) {
        guard let parts = message.array, parts.count == 3, parts[0].string == "message", parts[1].string == "+switch-master",
            let payload = parts[2].string
        else { return }
        let words = payload.split(separator: " ")
        guard words.count == 5, words[0] == masterName, let port = Int(words[4]) else { return }
        logger.notice("sentinel reports +switch-master for '\(masterName)' to \(words[3]):\(port)")
        install(master: .tcp(host: String(words[3]), port: port), replica: nil)
        // The replica set changed with the switch.
        if configuration.readFrom == .replica { requestDiscovery() }
    }
}
