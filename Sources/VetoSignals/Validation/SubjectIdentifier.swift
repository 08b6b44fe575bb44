import VetoCore

/// The subject of a security event (RFC 9493), in the formats Veto can turn into cut-offs.
package indirect enum SubjectIdentifier: Sendable, Equatable {
    /// `{"format": "iss_sub", "iss", "sub"}`: a subject of one issuer, named by that issuer.
    case issuerSubject(issuer: String, subject: String)
    /// `{"format": "opaque", "id"}`: a subject identifier the transmitter and Veto agree on (a `sub`).
    case opaque(String)
    /// `{"format": "email", "email"}`: matched against the tokens' `email` claim (weaker).
    case email(String)
    /// `{"format": "complex", "user": {…}, "session": {"format": "opaque", "id"}}`; other members
    /// (device, tenant, …) are ignored, which only widens what is cut off.
    case complex(user: SubjectIdentifier?, session: String?)

    /// Reads a subject identifier; anything Veto cannot act on exactly is `subject_unsupported`.
    package static func parse(_ value: JSONValue, name: String = "subject") throws(SignalRefusal) -> SubjectIdentifier {
        try parse(value, name: name, nested: false)
    }

    private static func parse(_ value: JSONValue, name: String, nested: Bool) throws(SignalRefusal) -> SubjectIdentifier {
        guard let object = value.objectValue else {
            throw SignalRefusal(.malformedClaim, "The \(name) is \(value.typeDescription); a subject identifier is an object (RFC 9493).")
        }
        guard let format = object["format"]?.stringValue else {
            throw SignalRefusal(.malformedClaim, "The \(name) has no string \"format\" (RFC 9493 §3).")
        }
        switch format {
        case "iss_sub":
            return .issuerSubject(
                issuer: try member(object, "iss", of: name), subject: try identifier(object, "sub", of: name))
        case "opaque":
            return .opaque(try identifier(object, "id", of: name))
        case "email":
            return .email(try identifier(object, "email", of: name))
        case "complex" where !nested:
            var user: SubjectIdentifier?
            if let value = object["user"] {
                user = try parse(value, name: "\(name).user", nested: true)
            }
            var session: String?
            if let value = object["session"] {
                guard case let .opaque(id) = try parse(value, name: "\(name).session", nested: true) else {
                    throw SignalRefusal(
                        .subjectUnsupported, "The \(name).session is not of format \"opaque\"; Veto matches sessions by their sid.")
                }
                session = id
            }
            guard user != nil || session != nil else {
                throw SignalRefusal(.subjectUnsupported, "The complex \(name) has neither a user nor a session Veto can match.")
            }
            return .complex(user: user, session: session)
        default:
            let shown = String(format.unicodeScalars.prefix(40).map { ControlCharacters.isUnsafe($0) ? "?" : Character($0) })
            throw SignalRefusal(
                .subjectUnsupported,
                "The \(name) has format \"\(shown)\"\(nested ? " inside a complex subject" : ""); Veto acts on iss_sub, opaque, email and complex (user and session) subjects."
            )
        }
    }

    private static func member(_ object: JSONObject, _ member: String, of name: String) throws(SignalRefusal) -> String {
        guard let value = object[member] else { throw SignalRefusal(.missingClaim, "The \(name) has no \"\(member)\".") }
        guard let string = value.stringValue else {
            throw SignalRefusal(.malformedClaim, "The \(name)'s \"\(member)\" is \(value.typeDescription), not a string.")
        }
        return string
    }

    private static func identifier(_ object: JSONObject, _ member: String, of name: String) throws(SignalRefusal) -> String {
        let value = try self.member(object, member, of: name)
        if let problem = SignalIdentifier.problem(value, name: "\(name)'s \"\(member)\"") { throw problem }
        return value
    }
}
