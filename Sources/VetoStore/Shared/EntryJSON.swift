import VetoCore

/// The stored JSON form of entries, shared by Redis values and journal records (documented in KEYS.md).
/// What Veto shows (HTTP answers, `veto blocklist --json`) is `RevocationJSON`.
///
/// Times are unix seconds written to the millisecond. Missing optional fields are written as `null`,
/// so every value shows every field.
enum EntryJSON {
    static func members(_ entry: RevocationEntry) -> [JSONObject.Member] {
        [
            .init(name: "iss", value: .string(entry.issuer)),
            .init(name: "jti", value: .string(entry.jti)),
            .init(name: "sub", value: entry.subject.map(JSONValue.string) ?? .null),
            .init(name: "exp", value: entry.tokenExpiresAt.map(number) ?? .null),
            .init(name: "revoked_at", value: number(entry.revokedAt)),
            .init(name: "reason", value: .string(entry.reason)),
            .init(name: "actor", value: entry.actor.map(JSONValue.string) ?? .null),
            .init(name: "expires_at", value: number(entry.entryExpiresAt))
        ]
    }

    /// A subject cut-off keeps its `sub` member (what Veto wrote before other kinds existed); every kind
    /// has `by` and `value`.
    static func members(_ cutoff: Cutoff) -> [JSONObject.Member] {
        var members: [JSONObject.Member] = [.init(name: "iss", value: .string(cutoff.issuer))]
        if cutoff.kind == .subject { members.append(.init(name: "sub", value: .string(cutoff.value))) }
        members += [
            .init(name: "by", value: .string(cutoff.kind.rawValue)),
            .init(name: "value", value: .string(cutoff.value)),
            .init(name: "cutoff", value: number(cutoff.cutoff)),
            .init(name: "revoked_at", value: number(cutoff.revokedAt)),
            .init(name: "reason", value: .string(cutoff.reason)),
            .init(name: "actor", value: cutoff.actor.map(JSONValue.string) ?? .null),
            .init(name: "created_by", value: cutoff.createdBy.map(JSONValue.string) ?? .null),
            .init(name: "expires_at", value: number(cutoff.entryExpiresAt))
        ]
        return members
    }

    static func encode(_ entry: RevocationEntry) -> [UInt8] {
        Array(JSONWriter.compact(.object(JSONObject(members: members(entry)))).utf8)
    }

    static func encode(_ cutoff: Cutoff) -> [UInt8] {
        Array(JSONWriter.compact(.object(JSONObject(members: members(cutoff)))).utf8)
    }

    static func entry(_ object: JSONObject) -> RevocationEntry? {
        guard let issuer = object["iss"]?.stringValue, let jti = object["jti"]?.stringValue,
            let revokedAt = time(object["revoked_at"]), let reason = object["reason"]?.stringValue,
            let expiresAt = time(object["expires_at"])
        else { return nil }
        return RevocationEntry(
            issuer: issuer, jti: jti, subject: object["sub"]?.stringValue, tokenExpiresAt: time(object["exp"]),
            revokedAt: revokedAt, reason: reason, actor: object["actor"]?.stringValue, entryExpiresAt: expiresAt
        )
    }

    /// A cut-off without `by` is a subject cut-off written before other kinds existed (`sub` names it).
    static func cutoff(_ object: JSONObject) -> Cutoff? {
        let kind: CutoffKind
        if let by = object["by"] {
            guard let name = by.stringValue, let known = CutoffKind(rawValue: name) else { return nil }
            kind = known
        } else {
            kind = .subject
        }
        guard let issuer = object["iss"]?.stringValue,
            let value = object["value"]?.stringValue ?? (kind == .subject ? object["sub"]?.stringValue : nil),
            let cutoff = time(object["cutoff"]), let revokedAt = time(object["revoked_at"]),
            let reason = object["reason"]?.stringValue, let expiresAt = time(object["expires_at"])
        else { return nil }
        return Cutoff(
            issuer: issuer, kind: kind, value: value, cutoff: cutoff, revokedAt: revokedAt, reason: reason,
            actor: object["actor"]?.stringValue, createdBy: object["created_by"]?.stringValue, entryExpiresAt: expiresAt
        )
    }

    static func entry(_ bytes: [UInt8]) -> RevocationEntry? {
        (try? JSONReader().parseObject(bytes)).flatMap(entry)
    }

    static func cutoff(_ bytes: [UInt8]) -> Cutoff? {
        (try? JSONReader().parseObject(bytes)).flatMap(cutoff)
    }

    private static func time(_ value: JSONValue?) -> Double? {
        guard let number = value?.numberValue?.doubleValue, number.isFinite else { return nil }
        return number
    }

    /// Seconds with at most three decimals, never in exponent form (Lua's cjson and people read it).
    static func number(_ seconds: Double) -> JSONValue {
        .number(JSONNumber(text: numberText(seconds), doubleValue: (seconds * 1000).rounded() / 1000))
    }

    static func numberText(_ seconds: Double) -> String {
        let milliseconds = Int64((seconds * 1000).rounded())
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = milliseconds.magnitude
        var text = sign + String(magnitude / 1000)
        var fraction = magnitude % 1000
        if fraction != 0 {
            var digits = 3
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let padded = String(fraction)
            text += "." + String(repeating: "0", count: digits - padded.count) + padded
        }
        return text
    }
}
