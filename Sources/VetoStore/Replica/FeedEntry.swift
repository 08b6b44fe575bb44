import VetoRedis

/// One entry of the blocklist feed, the Redis Stream `<prefix>feed` (KEYS.md, "The feed"): every write
/// to the blocklist appends one in the same Lua script as the write, so replicas and `veto blocklist
/// watch` see every change in order.
///
///     XADD <prefix>feed MAXLEN ~ 100000 * op set key <entry key> ttl_ms <ms> value <json>
///     XADD <prefix>feed MAXLEN ~ 100000 * op del key <entry key>
package struct FeedEntry: Sendable, Equatable {
    package enum Operation: Sendable, Equatable {
        /// The key now holds `value` for `ttlMilliseconds` (counted from when the write ran; -1: no expiry).
        case set(value: [UInt8], ttlMilliseconds: Int64)
        /// The key was deleted.
        case delete
        /// An entry Veto did not write (another program's, or damaged): what it changed is unknown.
        case unreadable(String)
    }

    /// The stream id, `<unix ms>-<sequence>`.
    package var id: FeedID
    /// The blocklist key written (`<prefix>j:…` or `<prefix>s:…`).
    package var key: [UInt8]
    package var operation: Operation

    package init(id: FeedID, key: [UInt8], operation: Operation) {
        self.id = id
        self.key = key
        self.operation = operation
    }

    var isDeletion: Bool {
        if case .delete = operation { return true }
        return false
    }

    var isUnreadable: Bool {
        if case .unreadable = operation { return true }
        return false
    }

    /// The XADD field/value arguments that write this entry (after `XADD <key> MAXLEN ~ N *`).
    package static func fields(key: [UInt8], operation: Operation) -> [[UInt8]] {
        switch operation {
        case let .set(value, ttl):
            [Array("op".utf8), Array("set".utf8), Array("key".utf8), key, Array("ttl_ms".utf8), Array(String(ttl).utf8), Array("value".utf8), value]
        case .delete, .unreadable:
            [Array("op".utf8), Array("del".utf8), Array("key".utf8), key]
        }
    }

    /// The entries of an `XREAD … STREAMS <feed> <id>` reply: nil (timeout) is none; anything that is not
    /// a stream reply throws. An entry with a readable id but fields Veto does not know (written by
    /// something else) comes back as ``Operation/unreadable(_:)``: a replica then tells whether its last
    /// load already covers it or it must load again.
    package static func entries(ofXREAD reply: RedisValue) throws(FeedError) -> [FeedEntry] {
        if reply.isNull { return [] }
        guard let streams = reply.array else { throw FeedError("the XREAD reply is not an array") }
        var entries: [FeedEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let items = pair[1].array else {
                throw FeedError("an XREAD stream is not a [name, entries] pair")
            }
            for item in items { entries.append(try entry(item)) }
        }
        return entries
    }

    /// The entries of an `XRANGE` reply.
    package static func entries(ofXRANGE reply: RedisValue) throws(FeedError) -> [FeedEntry] {
        guard let items = reply.array else { throw FeedError("the XRANGE reply is not an array") }
        var entries: [FeedEntry] = []
        for item in items { entries.append(try entry(item)) }
        return entries
    }

    private static func entry(_ item: RedisValue) throws(FeedError) -> FeedEntry {
        guard let pair = item.array, pair.count == 2, let idText = pair[0].string, let id = FeedID(idText) else {
            throw FeedError("a feed entry has no readable id")
        }
        do {
            let (key, operation) = try fields(of: pair[1])
            return FeedEntry(id: id, key: key, operation: operation)
        } catch {
            return FeedEntry(id: id, key: [], operation: .unreadable(error.description))
        }
    }

    private static func fields(of item: RedisValue) throws(FeedError) -> (key: [UInt8], operation: Operation) {
        guard let list = item.array, list.count % 2 == 0 else { throw FeedError("no field list") }
        var fields: [String: [UInt8]] = [:]
        for index in stride(from: 0, to: list.count, by: 2) {
            guard let name = list[index].string, let value = list[index + 1].bytes else { throw FeedError("an unreadable field") }
            fields[name] = value
        }
        guard let key = fields["key"], !key.isEmpty else { throw FeedError("no key") }
        switch fields["op"].map({ String(decoding: $0, as: UTF8.self) }) {
        case "set":
            guard let value = fields["value"], let ttlText = fields["ttl_ms"], let ttl = Int64(String(decoding: ttlText, as: UTF8.self)),
                ttl > 0 || ttl == -1
            else { throw FeedError("a set without a value and a ttl_ms") }
            return (key, .set(value: value, ttlMilliseconds: ttl))
        case "del":
            return (key, .delete)
        default:
            throw FeedError("an unknown op")
        }
    }
}

/// A stream id, `<milliseconds>-<sequence>`, ordered as Redis orders them.
package struct FeedID: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var milliseconds: UInt64
    package var sequence: UInt64

    package static let zero = FeedID(milliseconds: 0, sequence: 0)

    package init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    package init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    package var description: String { "\(milliseconds)-\(sequence)" }

    /// When the entry was added, in unix seconds (Redis's clock).
    package var time: Double { Double(milliseconds) / 1000 }

    package static func < (lhs: FeedID, rhs: FeedID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// The feed held something Veto did not write, or a reply was not a stream.
package struct FeedError: Error, Sendable, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
