import VetoCore

/// One change in the embedded journal. Revocations carry the entry as it was stored after merging, so
/// replaying the records in order rebuilds the exact state.
enum JournalRecord: Sendable, Equatable {
    case revoke(RevocationEntry)
    case revokeSubject(SubjectCutoff)
    case remove(issuer: String, jti: String)
    case removeSubject(issuer: String, subject: String)

    /// The record's payload: a JSON object with an `op` member and the entry's fields (KEYS.md).
    var payload: [UInt8] {
        var members: [JSONObject.Member]
        switch self {
        case .revoke(let entry):
            members = [.init(name: "op", value: .string("revoke"))] + EntryJSON.members(entry)
        case .revokeSubject(let cutoff):
            members = [.init(name: "op", value: .string("revoke_subject"))] + EntryJSON.members(cutoff)
        case .remove(let issuer, let jti):
            members = [
                .init(name: "op", value: .string("remove")), .init(name: "iss", value: .string(issuer)), .init(name: "jti", value: .string(jti))
            ]
        case .removeSubject(let issuer, let subject):
            members = [
                .init(name: "op", value: .string("remove_subject")), .init(name: "iss", value: .string(issuer)),
                .init(name: "sub", value: .string(subject))
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
        case "revoke_subject":
            guard let cutoff = EntryJSON.cutoff(object) else { return nil }
            self = .revokeSubject(cutoff)
        case "remove":
            guard let issuer = object["iss"]?.stringValue, let jti = object["jti"]?.stringValue else { return nil }
            self = .remove(issuer: issuer, jti: jti)
        case "remove_subject":
            guard let issuer = object["iss"]?.stringValue, let subject = object["sub"]?.stringValue else { return nil }
            self = .removeSubject(issuer: issuer, subject: subject)
        default:
            return nil
        }
    }
}
