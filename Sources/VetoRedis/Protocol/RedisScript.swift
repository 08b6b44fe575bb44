/// A Lua script run with EVALSHA, falling back to EVAL when the server answers NOSCRIPT (after a
/// restart or SCRIPT FLUSH); EVAL also caches it again.
package struct RedisScript: Sendable, Hashable {
    package let source: String
    /// Lower-case hex SHA-1 of `source`, the name Redis caches the script under.
    package let sha1: String

    package init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}
