import NIOCore

/// Where and how to reach Redis. Its descriptions never show the password.
public struct RedisConfiguration: Sendable {
    /// A TCP host and port, or a unix socket path.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// "127.0.0.1:6379", "[::1]:6379" or "unix:/run/redis.sock": the form error messages use.
        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path): "unix:\(path)"
            }
        }
    }

    public var endpoint: Endpoint
    /// ACL user name; `nil` with a password means the legacy `AUTH password`.
    public var username: String?
    /// Sent with AUTH; never part of a description or an error message.
    public var password: String?
    /// SELECTed after connecting when not 0.
    public var database: Int
    /// Bounds TCP connect plus the handshake (AUTH, SELECT, PING).
    public var connectTimeout: TimeAmount = .seconds(1)
    /// Time from handing a command to the client until its reply.
    public var commandTimeout: TimeAmount = .milliseconds(500)
    /// Commands that may wait or be in flight on one connection; past it, commands fail as overloaded.
    public var maxPendingCommands: Int = 4096
    /// First wait before reconnecting after a failure; doubled per failure up to ``maxReconnectDelay``.
    public var initialReconnectDelay: TimeAmount = .milliseconds(50)
    public var maxReconnectDelay: TimeAmount = .seconds(1)
    /// Bytes of one unfinished reply the client buffers before it treats the connection as broken.
    public var maxReplyBytes: Int = 64 << 20
    /// Sent as CLIENT SETNAME, so operators can tell Veto's connections apart in CLIENT LIST.
    public var clientName: String?

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[user[:password]@]host[:port][/db]` (port 6379, db 0 by default) and
    /// `unix://[user[:password]@]/path[?db=N]`. User, password and path may be percent-encoded.
    ///
    /// Errors name the part that is wrong and never repeat the URL, which may hold a password.
    public init(url: String) throws(RedisError) {
        func invalid(_ why: String) -> RedisError {
            RedisError(.invalidConfiguration, "invalid Redis URL: \(why)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw invalid("expected redis://host:port/db or unix:///path")
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

        let endpoint: Endpoint
        switch scheme {
        case "redis":
            var authority = rest
            if let slash = rest.firstIndex(of: "/") {
                authority = rest[..<slash]
                let path = rest[rest.index(after: slash)...]
                if !path.isEmpty {
                    guard let number = Int(path), number >= 0 else {
                        throw invalid("the path must be a database number, e.g. /0")
                    }
                    database = number
                }
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
            var port = 6379
            if let portText {
                guard let number = Int(portText), (1...65535).contains(number) else {
                    throw invalid("port '\(portText)' is not a number from 1 to 65535")
                }
                port = number
            }
            endpoint = .tcp(host: String(host), port: port)
        case "unix":
            let path = try Self.percentDecoded(rest, part: "socket path")
            guard path.hasPrefix("/") else { throw invalid("a unix socket path must be absolute: unix:///path") }
            endpoint = .unix(path: path)
        case "rediss":
            throw invalid("TLS (rediss://) is not supported")
        default:
            throw invalid("unknown scheme '\(scheme)' (expected redis or unix)")
        }
        self.init(endpoint: endpoint, username: username, password: password, database: database)
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
        switch endpoint {
        case .tcp:
            return "redis://\(userinfo)\(endpoint)/\(database)"
        case .unix(let path):
            return "unix://\(userinfo)\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }

    public var debugDescription: String { description }

    /// `dump` and debuggers see the redacted URL, not the stored password.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": description], displayStyle: .struct)
    }
}
