import Logging
import VetoCore

/// The log metadata of a request about a token, the same on both planes.
enum TokenLogMetadata {
    /// sub, jti, exp, iss and the reason code. Never the token. Values are escaped by the log handlers.
    static func token(_ facts: TokenFacts, code: String) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["code": .string(code)]
        if let subject = facts.subject { metadata["sub"] = .string(subject) }
        if let jti = facts.jwtID { metadata["jti"] = .string(jti) }
        if let exp = facts.expiresAt { metadata["exp"] = .stringConvertible(Int64(exp.rounded(.down))) }
        if let issuer = facts.issuer { metadata["iss"] = .string(issuer) }
        return metadata
    }
}
