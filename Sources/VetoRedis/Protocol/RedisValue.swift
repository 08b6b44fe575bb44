/// A Redis reply that is not an error. Error replies never become values: they fail the command with
/// a ``RedisError`` of code ``RedisError/Code/server``.
package enum RedisValue: Sendable, Hashable {
    /// `$-1` or `*-1`.
    case null
    /// `+OK` and other status replies.
    case simpleString(String)
    /// `$n`: binary-safe bytes.
    case bulkString([UInt8])
    case integer(Int64)
    case array([RedisValue])
}

extension RedisValue {
    /// The bytes of a bulk or simple string, `nil` for anything else.
    package var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// A bulk or simple string decoded as UTF-8 (invalid sequences repaired), `nil` for anything else.
    package var string: String? {
        switch self {
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .simpleString(let text): text
        default: nil
        }
    }

    package var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    package var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
