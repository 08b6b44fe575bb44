import VetoCore

/// The one JSON shape in which Veto shows a blocklist entry or a cut-off: the HTTP API
/// (`/v1/admin/…`, the logout answer) and `veto blocklist … --json` both print these objects.
///
/// Instants are RFC 3339 UTC text (milliseconds when not whole), with a unix-seconds twin where a
/// script needs to compute with it (`expires_at_unix`, `cutoff_unix`); `exp` is the token's
/// NumericDate as it was. Docs/openapi.yaml (`RevocationEntry`, `Cutoff`) describes it.
///
/// This is not the stored form: Redis values and journal records are `EntryJSON` (unix seconds).
package enum RevocationJSON {
    package static func entry(_ entry: RevocationEntry) -> JSONObject {
        JSONObject(members: [
            .init(name: "iss", value: .string(entry.issuer)),
            .init(name: "jti", value: .string(entry.jti)),
            .init(name: "sub", value: entry.subject.map(JSONValue.string) ?? .null),
            .init(name: "exp", value: entry.tokenExpiresAt.map(number) ?? .null),
            .init(name: "revoked_at", value: .string(UTCTime.iso8601(entry.revokedAt))),
            .init(name: "reason", value: .string(entry.reason)),
            .init(name: "actor", value: entry.actor.map(JSONValue.string) ?? .null),
            .init(name: "expires_at", value: .string(UTCTime.iso8601(entry.entryExpiresAt))),
            .init(name: "expires_at_unix", value: number(entry.entryExpiresAt.rounded(.up)))
        ])
    }

    /// The logout answer: `"revoked": true` followed by the entry, as compact JSON text.
    package static func entry(_ entry: RevocationEntry, revoked: Bool) -> String {
        JSONWriter.compact(.object(JSONObject(members: [.init(name: "revoked", value: .bool(revoked))] + Self.entry(entry).members)))
    }

    /// A subject cut-off also has `sub` (what `/v1/admin/subjects` answered before other kinds existed).
    package static func cutoff(_ cutoff: Cutoff) -> JSONObject {
        var head: [JSONObject.Member] = [
            .init(name: "iss", value: .string(cutoff.issuer)),
            .init(name: "by", value: .string(cutoff.kind.rawValue)),
            .init(name: "value", value: .string(cutoff.value))
        ]
        if cutoff.kind == .subject { head.append(.init(name: "sub", value: .string(cutoff.value))) }
        return JSONObject(
            members: head + [
                .init(name: "cutoff", value: .string(UTCTime.iso8601(cutoff.cutoff))),
                .init(name: "cutoff_unix", value: number(cutoff.cutoff)),
                // Tokens with iat ≤ cutoff are refused, and iat is usually whole seconds: a token minted in the
                // cut-off's own second cannot be told from one minted just before it, so it is refused too
                // (security finding 12). Replacement tokens minted from this second on are accepted.
                .init(name: "reissue_at", value: .string(UTCTime.iso8601(cutoff.cutoff.rounded(.down) + 1))),
                .init(name: "revoked_at", value: .string(UTCTime.iso8601(cutoff.revokedAt))),
                .init(name: "reason", value: .string(cutoff.reason)),
                .init(name: "actor", value: cutoff.actor.map(JSONValue.string) ?? .null),
                .init(name: "created_by", value: cutoff.createdBy.map(JSONValue.string) ?? .null),
                .init(name: "expires_at", value: .string(UTCTime.iso8601(cutoff.entryExpiresAt)))
            ])
    }

    /// An integer when whole, else the shortest decimal that reads back as the same Double.
    static func number(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 9e15 { return .number(JSONNumber(Int64(value))) }
        return .number(JSONNumber(text: String(value), doubleValue: value))
    }
}
