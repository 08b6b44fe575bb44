/// A `-MOVED slot host:port` or `-ASK slot host:port` error reply from a cluster node.
///
/// MOVED: the slot now lives on the other node for good; update the map and resend there.
/// ASK: the slot is being migrated and this key is already on the other node; resend there once,
/// preceded by ASKING, and leave the map alone.
struct ClusterRedirect: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case moved, ask
    }

    let kind: Kind
    let slot: Int
    /// `nil` when the node did not know its address (`?` or an empty host): it is then the host of the
    /// node that answered.
    let host: String?
    let port: Int

    /// Parses the server's message, e.g. "MOVED 3999 127.0.0.1:6381"; `nil` for any other error.
    init?(_ message: String) {
        let words = message.split(separator: " ")
        guard words.count == 3 else { return nil }
        switch words[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        guard let slot = Int(words[1]), (0..<KeySlot.count).contains(slot) else { return nil }
        // The port follows the last colon: an IPv6 host has colons of its own.
        let address = words[2]
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.slot = slot
        self.host = host.isEmpty || host == "?" ? nil : host
        self.port = port
    }

    func endpoint(answeredBy node: RedisConfiguration.Endpoint) -> RedisConfiguration.Endpoint {
        if let host { return .tcp(host: host, port: port) }
        if case .tcp(let nodeHost, _) = node { return .tcp(host: nodeHost, port: port) }
        return node
    }
}
