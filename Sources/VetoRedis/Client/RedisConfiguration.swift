import NIOCore

/// Where and how to reach Redis. Its descriptions never show the password.
///
/// `public` only because public declarations of VetoStore and VetoServer name it; its members are
/// `package`, like the rest of VetoRedis, except the descriptions its public conformances require.
public struct RedisConfiguration: Sendable {
    /// A TCP host and port, or a unix socket path.
    package enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// "127.0.0.1:6379", "[::1]:6379" or "unix:/run/redis.sock": the form error messages use.
        package var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path): "unix:\(path)"
            }
        }
    }

    package var endpoint: Endpoint
    /// ACL user name; `nil` with a password means the legacy `AUTH password`.
    package var username: String?
    /// Sent with AUTH; never part of a description or an error message.
    package var password: String?
    /// SELECTed after connecting when not 0.
    package var database: Int
    /// Bounds the TCP connect, and then, on its own, the handshake: TLS when configured, and AUTH,
    /// SELECT, CLIENT SETNAME, ROLE and PING as configured (``RedisHandshake``).
    package var connectTimeout: TimeAmount = .seconds(1)
    /// Time from handing a command to the client until its reply.
    package var commandTimeout: TimeAmount = .milliseconds(500)
    /// Commands that may wait or be in flight on one connection; past it, commands fail as overloaded.
    package var maxPendingCommands: Int = 4096
    /// First wait before reconnecting after a failure; doubled per failure up to ``maxReconnectDelay``.
    package var initialReconnectDelay: TimeAmount = .milliseconds(50)
    package var maxReconnectDelay: TimeAmount = .seconds(1)
    /// Bytes of one unfinished reply the client buffers before it treats the connection as broken.
    package var maxReplyBytes: Int = 64 << 20
    /// Sent as CLIENT SETNAME, so operators can tell Veto's connections apart in CLIENT LIST.
    package var clientName: String?
    /// One server, a master found through Sentinel, or a Redis Cluster.
    package var topology = Topology.standalone
    /// TLS to every server (and sentinel); `nil` for plain TCP.
    package var tls: TLS?
    /// Writes that must survive a failover (revocations) are confirmed with `WAIT n` before they succeed;
    /// 0 confirms nothing beyond the master's reply.
    package var replicasToConfirm = 0
    /// How long `WAIT` may take; past it the write fails as unconfirmed (it may still have been applied).
    package var replicationTimeout: TimeAmount = .seconds(1)
    /// Where reads that may be slightly stale go (Sentinel only); writes always go to the master.
    package var readFrom = ReadPreference.master
    /// The role `ROLE` must report during the handshake ("master", "slave"); `nil` checks nothing.
    var requiredRole: String?

    package enum Topology: Sendable, Hashable {
        case standalone
        /// The master named `masterName`, as the sentinels report it, followed across failovers.
        case sentinel(masterName: String, sentinels: [Endpoint])
        /// Every master of a cluster, found from any of `seeds`.
        case cluster(seeds: [Endpoint])
    }

    package enum ReadPreference: String, Sendable, Hashable {
        /// Every read goes to the master: a check sees every acknowledged revocation.
        case master
        /// Checks go to a replica when one is up: less load on the master, but a check may miss a
        /// revocation for as long as replication lags behind.
        case replica
    }

    /// TLS settings. Certificates and keys are PEM files.
    package struct TLS: Sendable, Hashable {
        /// CA certificates that may sign the server's certificate; `nil` trusts the system's CAs.
        package var caFile: String?
        /// Client certificate (chain) for mutual TLS, with ``keyFile``.
        package var certificateFile: String?
        package var keyFile: String?
        /// The name the server's certificate must carry (and the SNI sent); `nil` uses the host of the
        /// URL (an IP address is then matched against the certificate's IP addresses).
        package var serverName: String?

        package init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.serverName = serverName
        }
    }

    package init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a Redis URL. User, password and path may be percent-encoded.
    ///
    /// - `redis://[user[:password]@]host[:port][/db]` (port 6379, db 0 by default); `rediss://` for TLS.
    /// - `unix://[user[:password]@]/path[?db=N]`.
    /// - `redis-sentinel://[user[:password]@]host1:26379,host2:26379/master-name[?db=N]` (port 26379 by
    ///   default); `rediss-sentinel://` for TLS to the sentinels and the servers they name.
    /// - `redis-cluster://[user[:password]@]host1:port,host2:port` (seed nodes; port 6379 by default);
    ///   `rediss-cluster://` for TLS.
    ///
    /// Errors name the part that is wrong and never repeat the URL, which may hold a password.
    package init(url: String) throws(RedisError) {
        func invalid(_ why: String) -> RedisError {
            RedisError(.invalidConfiguration, "invalid Redis URL: \(why)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw invalid("expected redis://host:port/db, rediss://…, redis-sentinel://…, redis-cluster://… or unix:///path")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                username = try Self.percentDecoded(userinfo[..<colon], part: "user name")
                password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], part: "password")
            } else {
                username = try Self.percentDecoded(userinfo, part: "user name")
            }
            if username?.isEmpty == true { username = nil }
        }
        var database = 0
        for parameter in query.split(separator: "&") where !parameter.isEmpty {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == "db" else {
                throw invalid("unknown query parameter '\(pair[0])' (only db=N is understood)")
            }
            guard let number = Int(pair[1]), number >= 0 else { throw invalid("db must be a number ≥ 0") }
            database = number
        }

        var authority = rest
        var path = Substring("")
        if scheme != "unix", let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        let endpoint: Endpoint
        var topology = Topology.standalone
        var useTLS = false
        switch scheme {
        case "redis", "rediss":
            useTLS = scheme == "rediss"
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw invalid("the path must be a database number, e.g. /0")
                }
                database = number
            }
            guard !authority.contains(",") else {
                throw invalid("several hosts need redis-sentinel:// or redis-cluster://")
            }
            endpoint = try Self.hostAndPort(authority, defaultPort: 6379)
        case "redis-sentinel", "rediss-sentinel":
            useTLS = scheme == "rediss-sentinel"
            let sentinels = try authority.split(separator: ",", omittingEmptySubsequences: false).map { host throws(RedisError) in
                try Self.hostAndPort(host, defaultPort: 26379)
            }
            let name = try Self.percentDecoded(path, part: "master name")
            guard !name.isEmpty, !name.contains("/") else {
                throw invalid("a sentinel URL names the master after the hosts: redis-sentinel://host:26379,host:26379/mymaster")
            }
            endpoint = sentinels[0]
            topology = .sentinel(masterName: name, sentinels: sentinels)
        case "redis-cluster", "rediss-cluster":
            useTLS = scheme == "rediss-cluster"
            guard path.isEmpty || path == "0" else { throw invalid("Redis Cluster has only database 0") }
            guard database == 0 else { throw invalid("Redis Cluster has only database 0") }
            let seeds = try authority.split(separator: ",", omittingEmptySubsequences: false).map { host throws(RedisError) in
                try Self.hostAndPort(host, defaultPort: 6379)
            }
            endpoint = seeds[0]
            topology = .cluster(seeds: seeds)
        case "unix":
            let path = try Self.percentDecoded(rest, part: "socket path")
            guard path.hasPrefix("/") else { throw invalid("a unix socket path must be absolute: unix:///path") }
            endpoint = .unix(path: path)
        default:
            throw invalid("unknown scheme '\(scheme)' (expected redis, rediss, redis-sentinel, redis-cluster or unix)")
        }
        self.init(endpoint: endpoint, username: username, password: password, database: database)
        self.topology = topology
        if useTLS { self.tls = TLS() }
    }

    /// `host[:port]` or `[v6]:port`.
    private static func hostAndPort(_ authority: Substring, defaultPort: Int) throws(RedisError) -> Endpoint {
        func invalid(_ why: String) -> RedisError {
            RedisError(.invalidConfiguration, "invalid Redis URL: \(why)")
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unclosed [ in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("expected :port after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw invalid("no host") }
        var port = defaultPort
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw invalid("port '\(portText)' is not a number from 1 to 65535")
            }
            port = number
        }
        return .tcp(host: String(host), port: port)
    }

    private static func percentDecoded(_ text: Substring, part: String) throws(RedisError) -> String {
        var bytes = [UInt8]()
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw RedisError(.invalidConfiguration, "invalid Redis URL: bad percent-encoding in the \(part)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension RedisConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The URL with the password replaced by `***`, e.g. "redis://veto:***@127.0.0.1:6390/0".
    public var description: String {
        var userinfo = ""
        if username != nil || password != nil {
            userinfo = (username ?? "") + (password == nil ? "" : ":***") + "@"
        }
        let secure = tls == nil ? "" : "s"
        switch (topology, endpoint) {
        case (.sentinel(let name, let sentinels), _):
            return "redis\(secure)-sentinel://\(userinfo)\(sentinels.map(\.description).joined(separator: ","))/\(name)"
                + (database == 0 ? "" : "?db=\(database)")
        case (.cluster(let seeds), _):
            return "redis\(secure)-cluster://\(userinfo)\(seeds.map(\.description).joined(separator: ","))"
        case (.standalone, .tcp):
            return "redis\(secure)://\(userinfo)\(endpoint)/\(database)"
        case (.standalone, .unix(let path)):
            return "unix://\(userinfo)\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }

    public var debugDescription: String { description }

    /// `dump` and debuggers see the redacted URL, not the stored password.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": description], displayStyle: .struct)
    }
}
