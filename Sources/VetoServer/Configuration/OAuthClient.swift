import VetoCore

public struct OAuthClient: Sendable {
    public var id: String
    public var secret: String
    /// May revoke (RFC 7009) tokens issued to any client, not only its own: for gateways and admin tools.
    public var revokeAny: Bool

    public init(id: String, secret: String, revokeAny: Bool = false) {
        self.id = id
        self.secret = secret
        self.revokeAny = revokeAny
    }
}
