import VetoCore

package struct OAuthClient: Sendable {
    package var id: String
    package var secret: String
    /// May revoke (RFC 7009) tokens issued to any client, not only its own: for gateways and admin tools.
    package var revokeAny: Bool

    package init(id: String, secret: String, revokeAny: Bool = false) {
        self.id = id
        self.secret = secret
        self.revokeAny = revokeAny
    }
}
