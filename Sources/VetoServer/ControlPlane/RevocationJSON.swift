import VetoCore
import VetoStore

/// The JSON shape of blocklist entries in HTTP answers (also what `veto blocklist --json` prints).
enum RevocationJSON {
    static func entry(_ entry: RevocationEntry) -> JSONObject {
        var object = JSONObject()
        object["iss"] = .string(entry.issuer)
        object["jti"] = .string(entry.jti)
        object["sub"] = entry.subject.map(JSONValue.string) ?? .null
        object["exp"] = entry.tokenExpiresAt.map(number) ?? .null
        object["revoked_at"] = .string(UTCTime.iso8601(entry.revokedAt))
        object["reason"] = .string(entry.reason)
        object["actor"] = entry.actor.map(JSONValue.string) ?? .null
        object["expires_at"] = .string(UTCTime.iso8601(entry.entryExpiresAt))
        object["expires_at_unix"] = number(entry.entryExpiresAt.rounded(.up))
        return object
    }

    /// The logout answer: the entry plus `"revoked": true`.
    static func entry(_ entry: RevocationEntry, revoked: Bool) -> String {
        var object = JSONObject()
        object["revoked"] = .bool(revoked)
        for member in Self.entry(entry).members { object[member.name] = member.value }
        return JSONWriter.compact(.object(object))
    }

    static func cutoff(_ cutoff: SubjectCutoff) -> JSONObject {
        var object = JSONObject()
        object["iss"] = .string(cutoff.issuer)
        object["sub"] = .string(cutoff.subject)
        object["cutoff"] = .string(UTCTime.iso8601(cutoff.cutoff))
        object["cutoff_unix"] = number(cutoff.cutoff)
        // Tokens with iat ≤ cutoff are refused, and iat is usually whole seconds: a token minted in the
        // cut-off's own second cannot be told from one minted just before it, so it is refused too
        // (security finding 12). Replacement tokens minted from this second on are accepted.
        object["reissue_at"] = .string(UTCTime.iso8601(cutoff.cutoff.rounded(.down) + 1))
        object["revoked_at"] = .string(UTCTime.iso8601(cutoff.revokedAt))
        object["reason"] = .string(cutoff.reason)
        object["actor"] = cutoff.actor.map(JSONValue.string) ?? .null
        object["expires_at"] = .string(UTCTime.iso8601(cutoff.entryExpiresAt))
        return object
    }

    static func number(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 9e15 { return .number(JSONNumber(Int64(value))) }
        return .number(JSONNumber(text: String(value), doubleValue: value))
    }
}
