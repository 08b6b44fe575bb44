import VetoCore

/// One change in the embedded journal. Revocations carry the entry as it was stored after merging, so
/// replaying the records in order rebuilds the exact state.
enum JournalRecord: Sendable, Equatable {
    case revoke(RevocationEntry)
    case cutoff(Cutoff)
    case remove(issuer: String, jti: String)
    case removeCutoff(issuer: String, kind: CutoffKind, value: String)

    /// The record's payload: a JSON object with an `op` member and the entry's fields (KEYS.md). A subject
    /// cut-off keeps the ops it had before other kinds existed (`revoke_subject`, `remove_subject`), so
    /// journals read the same both ways; other kinds are `cutoff` and `remove_cutoff`.
    var payload: [UInt8] {
        var members: [JSONObject.Member]
        switch self {
        case .revoke(let entry):
            members = [.init(name: "op", value: .string("revoke"))] + EntryJSON.members(entry)
        case .cutoff(let cutoff):
            members = [.init(name: "op", value: .string(cutoff.kind == .subject ? "revoke_subject" : "cutoff"))] + EntryJSON.members(cutoff)
        case .remove(let issuer, let jti):
            members = [
                .init(name: "op", value: .string("remove")), .init(name: "iss", value: .string(issuer)), .init(name: "jti", value: .string(jti))
            ]
        case .removeCutoff(let issuer, .subject, let subject):
            members = [
                .init(name: "op", value: .string("remove_subject")), .init(name: "iss", value: .string(issuer)),
                .init(name: "sub", value: .string(subject))
            ]
        case .removeCutoff(let issuer, let kind, let value):
            members = [
                .init(name: "op", value: .string("remove_cutoff")), .init(name: "iss", value: .string(issuer)),
                .init(name: "by", value: .string(kind.rawValue)), .init(name: "value", value: .string(value))
            ]
        }
        return Array(JSONWriter.compact(.object(JSONObject(members: members))).utf8)
    }

    init?(payload: ArraySlice<UInt8>) {
        if let record = Self.fastRevoke(payload) {
            self = record
            return
        }
        guard let object = try? JSONReader().parseObject(payload), let op = object["op"]?.stringValue else { return nil }
        switch op {
        case "revoke":
            guard let entry = EntryJSON.entry(object) else { return nil }
            self = .revoke(entry)
        case "revoke_subject", "cutoff":
            guard let cutoff = EntryJSON.cutoff(object), (op == "cutoff") == (cutoff.kind != .subject) else { return nil }
            self = .cutoff(cutoff)
        case "remove":
            guard let issuer = object["iss"]?.stringValue, let jti = object["jti"]?.stringValue else { return nil }
            self = .remove(issuer: issuer, jti: jti)
        case "remove_subject":
            guard let issuer = object["iss"]?.stringValue, let subject = object["sub"]?.stringValue else { return nil }
            self = .removeCutoff(issuer: issuer, kind: .subject, value: subject)
        case "remove_cutoff":
            guard let issuer = object["iss"]?.stringValue, let kind = object["by"]?.stringValue.flatMap(CutoffKind.init(rawValue:)),
                kind != .subject, let value = object["value"]?.stringValue
            else { return nil }
            self = .removeCutoff(issuer: issuer, kind: kind, value: value)
        default:
            return nil
        }
    }
}
