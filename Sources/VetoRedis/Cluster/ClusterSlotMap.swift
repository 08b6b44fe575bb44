/// Which master serves each of the 16384 slots, read from `CLUSTER SLOTS`.
///
/// A value: a refresh builds a new map and swaps it in whole; a MOVED patches one slot of a copy.
struct ClusterSlotMap: Sendable, Equatable {
    /// Every master that owns at least one slot, ordered by the lowest slot it owns.
    private(set) var masters: [RedisConfiguration.Endpoint]
    /// Index into `masters` per slot; `unassigned` where no node serves the slot.
    private var owners: [UInt16]
    static let unassigned = UInt16.max

    /// - Parameters:
    ///   - reply: The `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replica…], …]`.
    ///   - answeredBy: The node that answered; its host stands in for an empty or `?` host.
    init(slotsReply reply: RedisValue, answeredBy: RedisConfiguration.Endpoint) throws(RedisError) {
        func invalid(_ why: String) -> RedisError {
            RedisError(.protocolViolation, "unexpected CLUSTER SLOTS reply from \(answeredBy): \(why)")
        }
        guard let ranges = reply.array else { throw invalid("not an array") }
        var owners = [UInt16](repeating: Self.unassigned, count: KeySlot.count)
        var masters: [RedisConfiguration.Endpoint] = []
        var lowest: [RedisConfiguration.Endpoint: Int] = [:]
        var parsed: [(Range<Int>, RedisConfiguration.Endpoint)] = []
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let start = fields[0].integer, let end = fields[1].integer,
                start >= 0, end >= start, end < KeySlot.count
            else { throw invalid("a slot range is malformed") }
            guard let node = fields[2].array, node.count >= 2, let port = node[1].integer, (1...65535).contains(port) else {
                throw invalid("a node entry is malformed")
            }
            let rawHost = node[0].string ?? ""
            let host: String
            if rawHost.isEmpty || rawHost == "?" {
                guard case .tcp(let fallback, _) = answeredBy else { throw invalid("a node has no address") }
                host = fallback
            } else {
                host = rawHost
            }
            let endpoint = RedisConfiguration.Endpoint.tcp(host: host, port: Int(port))
            parsed.append((Int(start)..<Int(end) + 1, endpoint))
            lowest[endpoint] = min(lowest[endpoint] ?? Int.max, Int(start))
        }
        masters = lowest.keys.sorted { lowest[$0]! < lowest[$1]! }
        let index = Dictionary(uniqueKeysWithValues: masters.enumerated().map { ($1, UInt16($0)) })
        for (slots, endpoint) in parsed {
            for slot in slots { owners[slot] = index[endpoint]! }
        }
        self.masters = masters
        self.owners = owners
    }

    /// The master serving `slot`, `nil` if none does.
    func master(forSlot slot: Int) -> RedisConfiguration.Endpoint? {
        let owner = owners[slot]
        return owner == Self.unassigned ? nil : masters[Int(owner)]
    }

    /// Slots that no master serves.
    var unassignedSlots: Int {
        owners.reduce(0) { $0 + ($1 == Self.unassigned ? 1 : 0) }
    }

    /// Records a MOVED: `slot` now lives on `endpoint` (added as a master if it was not one).
    mutating func assign(slot: Int, to endpoint: RedisConfiguration.Endpoint) {
        if let index = masters.firstIndex(of: endpoint) {
            owners[slot] = UInt16(index)
        } else {
            masters.append(endpoint)
            owners[slot] = UInt16(masters.count - 1)
        }
    }
}
