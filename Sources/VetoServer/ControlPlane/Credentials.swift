import Foundation
import HTTPTypes
import VetoCore

/// Admin and OAuth-client authentication, compared in constant time.
struct Credentials: Sendable {
    let adminToken: [UInt8]?
    /// Client ids by their bytes, never by canonical equivalence.
    let clients: [ExactString: (secret: [UInt8], revokeAny: Bool)]

    /// An authenticated OAuth caller.
    struct Client: Sendable {
        /// The client id, or "admin" for the admin token.
        let id: String
        /// May revoke tokens issued to other clients (`revoke_any: true`, and the admin token).
        let revokeAny: Bool
    }

    init(adminToken: String?, clients: [OAuthClient]) {
        self.adminToken = adminToken.map { Array($0.utf8) }
        self.clients = Dictionary(
            clients.map { (ExactString($0.id), (Array($0.secret.utf8), $0.revokeAny)) }, uniquingKeysWith: { first, _ in first })
    }

    /// True when the request carries `Authorization: Bearer <admin token>`.
    func isAdmin(_ fields: HTTPFields) -> Bool {
        guard let adminToken, let header = fields[.authorization], let presented = BearerCredentials.parse(header) else { return false }
        return Self.constantTimeEquals(presented, adminToken)
    }

    /// The authenticated OAuth client: HTTP Basic with a configured client (RFC 6749 §2.3.1),
    /// or the admin token (reported as "admin").
    func oauthClient(_ fields: HTTPFields) -> Client? {
        if isAdmin(fields) { return Client(id: "admin", revokeAny: true) }
        guard let header = fields[.authorization], header.count > 6, header.prefix(6).lowercased() == "basic ",
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return nil }
        // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
        let id = String(pair[..<colon]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
        let secret = String(pair[pair.index(after: colon)...]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
        guard let expected = clients[ExactString(id)], Self.constantTimeEquals(Array(secret.utf8), expected.secret) else { return nil }
        return Client(id: id, revokeAny: expected.revokeAny)
    }

    /// Compares without an early exit, so timing does not reveal how much of a secret matched.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0 && lhs.count == rhs.count
    }
}
