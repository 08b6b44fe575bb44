/// An absolute `http` or `https` URL as text, with a rendering that is safe to log.
package struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// The URL exactly as given, for the request.
    package let text: String
    package let isHTTPS: Bool
    /// Scheme, host, port and path: no user info, query or fragment, which may hold credentials.
    package let redacted: String
    /// The host, lower-cased, without port or brackets.
    package let host: String

    /// Whether the host is this machine (127.0.0.0/8, ::1, localhost), where plain http cannot be
    /// intercepted on the network.
    package var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        // A dotted-quad IPv4 address in 127.0.0.0/8 only: "127.evil.example.com" is a name anyone can point anywhere.
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { octet in
                // Canonical decimal only: "127.0.0.08" is no address to a resolver, which may look it up by name.
                guard octet.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(octet), value <= 255 else { return false }
                return String(value) == octet
            }
    }

    package init?(_ text: String) {
        // Control characters and spaces would be rejected by the client anyway; refusing them
        // here keeps a broken URL out of log lines too.
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else { return nil }
        let lowered = text.lowercased()
        let schemeLength: Int
        if lowered.hasPrefix("https://") {
            isHTTPS = true
            schemeLength = 8
        } else if lowered.hasPrefix("http://") {
            isHTTPS = false
            schemeLength = 7
        } else {
            return nil
        }
        let rest = text.dropFirst(schemeLength)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty, !authority.hasPrefix(":") else { return nil }
        var host = authority
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        self.host = host.lowercased()
        let afterAuthority = rest[authorityEnd...]
        let path = afterAuthority.prefix { $0 != "?" && $0 != "#" }
        self.text = text
        self.redacted = "\(isHTTPS ? "https" : "http")://\(authority)\(path)"
    }

    package var description: String { redacted }
}
