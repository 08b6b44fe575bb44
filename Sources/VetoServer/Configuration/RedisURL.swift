import Foundation
import VetoCore
import Yams

/// Redis URL helpers that never print the password. They work on the text itself, since
/// `redis-sentinel://h1:26379,h2:26379/name` and `redis-cluster://h1,h2` are not URLs to Foundation.
package enum RedisURL {
    package static func hasPassword(_ url: String) -> Bool {
        guard let (_, userinfo, _) = split(url), let userinfo, let colon = userinfo.firstIndex(of: ":") else { return false }
        return userinfo.index(after: colon) < userinfo.endIndex
    }

    package static func withPassword(_ url: String, password: String, field: String) throws -> String {
        guard let (head, userinfo, rest) = split(url) else { throw ConfigurationError(field, "redis.url is not a URL") }
        let user = userinfo.map { info in info.firstIndex(of: ":").map { String(info[..<$0]) } ?? String(info) } ?? ""
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        var encoded = ""
        for byte in password.utf8 {
            if allowed.contains(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return "\(head)\(user):\(encoded)@\(rest)"
    }

    /// `scheme://`, the user info before `@` (if any), and everything after it.
    private static func split(_ url: String) -> (head: Substring, userinfo: Substring?, rest: Substring)? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let head = url[..<schemeEnd.upperBound]
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return (head, nil, afterScheme) }
        return (head, authority[..<at], afterScheme[afterScheme.index(after: at)...])
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
