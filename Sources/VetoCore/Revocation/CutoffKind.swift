/// What a cut-off matches a token by (README, "Cut-offs"). A cut-off (issuer, kind, value, before) refuses
/// every token of that issuer whose claim of this kind equals `value` and whose `iat` is at or before `before`.
///
/// The raw values are API: the `by` member of `/v1/admin/cutoffs`, `veto blocklist cutoff --by`, and the
/// `by` member of stored values. Never rename one.
package enum CutoffKind: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// The token's `sub`: "log this user out everywhere".
    case subject = "sub"
    /// The token's `sid` claim (OpenID Connect session): one session of a user.
    case session = "sid"
    /// The `kid` of the configured key that verified the token: everything signed with a key that leaked,
    /// including tokens whose header names no kid (or another one) but verify with that key.
    case key = "kid"
    /// The token's `azp` or `client_id`: everything issued to a compromised client.
    case client = "client"
    /// Every token of the issuer: its value is the empty string.
    case issuer = "issuer"
    /// The token's `email` claim (Shared Signals email subjects). Weaker than the others: an email
    /// address can move between accounts and is not always verified.
    case email = "email"

    package var description: String { rawValue }

    /// The refusal code of a token this kind of cut-off refuses.
    package var reasonCode: ReasonCode {
        switch self {
        case .subject: .subjectRevoked
        case .session: .sessionRevoked
        case .key: .keyRevoked
        case .client: .clientRevoked
        case .issuer: .issuerCutoff
        case .email: .emailRevoked
        }
    }

    /// The value as cut-offs store and match it: an email address in lower case (an issuer and a Shared
    /// Signals transmitter may spell one address differently, and refusing a few more tokens is the safe
    /// side); every other kind byte for byte.
    /// Keys are built from it on every check of a token with `email`: an address already in lower-case
    /// ASCII (as `CutoffValues` keeps it) is returned as it is, without a new string.
    package func stored(_ value: String) -> String {
        guard self == .email, !value.utf8.allSatisfy({ $0 < 0x80 && !(0x41...0x5A).contains($0) }) else { return value }
        return value.lowercased()
    }

    /// How a refusal names what was cut off: `session "abc"`, `every token of the issuer`.
    package func describe(_ value: String) -> String {
        switch self {
        case .subject: "subject \"\(value)\""
        case .session: "session (sid) \"\(value)\""
        case .key: "signing key (kid) \"\(value)\""
        case .client: "client \"\(value)\""
        case .issuer: "the issuer"
        case .email: "email \"\(value)\""
        }
    }
}

/// The values of a token a check looks cut-offs up by: its claims of each ``CutoffKind``. Built once per
/// verified token (the verification cache keeps it), read on every check.
package struct CutoffValues: Sendable, Equatable {
    package var subject: String?
    package var session: String?
    package var keyID: String?
    /// `azp`, then `client_id` when it differs.
    package var clients: [String]
    package var email: String?

    package init(subject: String? = nil, session: String? = nil, keyID: String? = nil, clients: [String] = [], email: String? = nil) {
        self.subject = subject
        self.session = session
        self.keyID = keyID
        self.clients = clients
        self.email = email
    }

    /// From the verified token's claims and the kid of the key that verified it. Only string claims count: a cut-off's value is a string,
    /// and an issuer that writes `sid` as a number has no session to cut off by text.
    package init(claims: JWTClaims, keyID: String?) {
        func string(_ name: String) -> String? { claims.object[name]?.stringValue }
        var clients: [String] = []
        for name in ["azp", "client_id"] {
            if let client = string(name), !clients.contains(where: { $0.utf8.elementsEqual(client.utf8) }) { clients.append(client) }
        }
        self.init(
            subject: claims.subject, session: string("sid"), keyID: keyID, clients: clients, email: string("email").map(CutoffKind.email.stored))
    }

    /// Every (kind, value) to look up, in the order refusals are reported; the issuer cut-off always.
    package func forEach(_ body: (CutoffKind, String) throws -> Void) rethrows {
        if let subject { try body(.subject, subject) }
        if let session { try body(.session, session) }
        for client in clients { try body(.client, client) }
        if let keyID { try body(.key, keyID) }
        if let email { try body(.email, email) }
        try body(.issuer, "")
    }
}
