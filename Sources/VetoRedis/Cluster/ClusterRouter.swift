import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Routes each command to the master that owns its key's slot in a Redis Cluster.
///
/// - The slot map comes from `CLUSTER SLOTS`, asked of a known node (the seeds first). It is read
///   again after every MOVED (coalesced: one refresh at a time) and every ``refreshInterval``.
/// - MOVED patches the one slot at once and resends there; ASK resends once, after ASKING, to the
///   importing node without touching the map.
/// - Nodes (one connection per event loop each) are opened on first use and closed when they leave
///   the map.
final class ClusterRouter: RedisRouter {
    static let refreshInterval = TimeAmount.seconds(5)
    static let retryInterval = TimeAmount.milliseconds(100)

    private let configuration: RedisConfiguration
    private let seeds: [RedisConfiguration.Endpoint]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let tls: Result<RedisTLSContext, RedisError>?

    private struct State {
        var map: ClusterSlotMap?
        var nodes: [RedisConfiguration.Endpoint: RedisNode] = [:]
        var refreshing = false
        var again = false
        var waiters = TopologyWaiters()
        var poll: RepeatedTask?
        var closed = false
    }

    private let state: NIOLockedValueBox<State>

    init(
        configuration: RedisConfiguration, seeds: [RedisConfiguration.Endpoint], eventLoopGroup: any EventLoopGroup,
        logger: Logger, tls: Result<RedisTLSContext, RedisError>?
    ) {
        self.configuration = configuration
        self.seeds = seeds
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.tls = tls
        self.state = NIOLockedValueBox(State())
        requestRefresh()
        let poll = eventLoopGroup.any().scheduleRepeatedTask(initialDelay: Self.refreshInterval, delay: Self.refreshInterval) { [weak self] _ in
            self?.requestRefresh()
        }
        state.withLockedValue { $0.poll = poll }
    }

    // MARK: Routing

    func route(key: [UInt8]?, read: Bool) -> RedisRoute {
        let slot = key.map(KeySlot.slot(of:))
        return state.withLockedValue { state in
            guard !state.closed else { return .failed(RedisError(.shutdown, "the Redis client is closed")) }
            guard let map = state.map else { return .pending }
            guard let endpoint = slot.map({ map.master(forSlot: $0) }) ?? map.masters.first else {
                return .failed(RedisError(.unavailable, "no Redis Cluster node serves slot \(slot ?? 0) (CLUSTERDOWN?)"))
            }
            return .node(node(endpoint, in: &state))
        }
    }

    func whenReady(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<Void> {
        state.withLockedValue { state in
            if state.map != nil { return eventLoop.makeSucceededVoidFuture() }
            return state.waiters.add(on: eventLoop, deadline: deadline, what: "Redis Cluster slot map (no seed node has answered CLUSTER SLOTS)")
        }
    }

    func follow(_ redirect: ClusterRedirect, from node: RedisNode) -> RedisNode? {
        let endpoint = redirect.endpoint(answeredBy: node.endpoint)
        let target = state.withLockedValue { state -> RedisNode? in
            guard !state.closed else { return nil }
            if redirect.kind == .moved { state.map?.assign(slot: redirect.slot, to: endpoint) }
            return self.node(endpoint, in: &state)
        }
        if redirect.kind == .moved { requestRefresh() }
        return target
    }

    func noteFailure(_ error: RedisError) {
        if error.serverErrorPrefix == "CLUSTERDOWN" { requestRefresh() }
    }

    func masters(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<[RedisNode]> {
        whenReady(on: eventLoop, deadline: deadline).flatMapThrowing {
            try self.state.withLockedValue { state in
                guard let map = state.map else { throw RedisError(.unavailable, "no Redis Cluster slot map known") }
                return map.masters.map { self.node($0, in: &state) }
            }
        }
    }

    var nodes: [RedisNode] {
        state.withLockedValue { Array($0.nodes.values) }
    }

    func close(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let (nodes, waiters) = state.withLockedValue { state in
            state.closed = true
            state.poll?.cancel()
            defer { state.nodes = [:] }
            return (Array(state.nodes.values), state.waiters.drain())
        }
        for (promise, timeout) in waiters {
            timeout.cancel()
            promise.fail(RedisError(.shutdown, "the Redis client is closed"))
        }
        return EventLoopFuture.andAllComplete(nodes.map { $0.close(on: eventLoop) }, on: eventLoop)
    }

    /// The open node for `endpoint`, opened now if need be. Call with the lock held.
    private func node(_ endpoint: RedisConfiguration.Endpoint, in state: inout State) -> RedisNode {
        if let existing = state.nodes[endpoint] { return existing }
        var node = configuration
        node.endpoint = endpoint
        node.topology = .standalone
        let hooks = RedisConnectionHooks(onFailure: { [weak self] _ in self?.requestRefresh() })
        let opened = RedisNode(configuration: node, eventLoopGroup: eventLoopGroup, logger: logger, tls: tls, hooks: hooks)
        state.nodes[endpoint] = opened
        return opened
    }

    // MARK: Slot map

    private func requestRefresh() {
        let start = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            if state.refreshing {
                state.again = true
                return false
            }
            state.refreshing = true
            return true
        }
        guard start else { return }
        Task { await self.refreshUntilSettled() }
    }

    private func refreshUntilSettled() async {
        while true {
            state.withLockedValue { $0.again = false }
            let found = await refresh()
            let next = state.withLockedValue { state -> Bool in
                if state.closed || (found && !state.again) {
                    state.refreshing = false
                    return false
                }
                return true
            }
            guard next else { return }
            try? await Task.sleep(nanoseconds: UInt64(Self.retryInterval.nanoseconds))
        }
    }

    /// Asks the known masters, then the seeds, for `CLUSTER SLOTS`; installs the first full answer.
    private func refresh() async -> Bool {
        let candidates = state.withLockedValue { state -> [RedisConfiguration.Endpoint] in
            var list = state.map?.masters ?? []
            for seed in seeds where !list.contains(seed) { list.append(seed) }
            return list
        }
        let loop = eventLoopGroup.any()
        for endpoint in candidates {
            let node = state.withLockedValue { state -> RedisNode? in state.closed ? nil : self.node(endpoint, in: &state) }
            guard let node else { return true }
            let map: ClusterSlotMap
            do {
                let reply = try await node.send([RedisCommand("CLUSTER", "SLOTS")], on: loop)[0].get()
                map = try ClusterSlotMap(slotsReply: reply, answeredBy: endpoint)
            } catch {
                logger.debug("CLUSTER SLOTS failed at \(endpoint): \(error)")
                continue
            }
            install(map)
            return true
        }
        let first = state.withLockedValue { $0.map == nil }
        if first {
            logger.warning("no Redis Cluster node answered CLUSTER SLOTS yet", metadata: ["redis": "\(configuration)"])
        }
        return false
    }

    private func install(_ map: ClusterSlotMap) {
        let (closing, waiters, changed) = state.withLockedValue {
            state -> ([RedisNode], [(promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)], Bool) in
            guard !state.closed else { return ([], [], false) }
            let changed = state.map?.masters != map.masters
            state.map = map
            // Seeds stay open: they are where the next refresh starts if every master goes away.
            var closing: [RedisNode] = []
            for (endpoint, node) in state.nodes where !map.masters.contains(endpoint) && !seeds.contains(endpoint) {
                closing.append(node)
                state.nodes[endpoint] = nil
            }
            return (closing, state.waiters.drain(), changed)
        }
        if changed {
            logger.info(
                "Redis Cluster masters: \(map.masters.map(\.description).joined(separator: ", "))",
                metadata: ["redis": "\(configuration)", "unassigned_slots": "\(map.unassignedSlots)"])
        }
        TopologyWaiters.succeed(waiters)
        let loop = eventLoopGroup.any()
        for node in closing { _ = node.close(on: loop) }
    }
}
