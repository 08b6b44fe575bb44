import VetoCore

/// One RFC 8936 poll request: what to acknowledge, what to report as failed, and how many SETs to take.
package struct PollRequest: Sendable, Equatable {
    package struct SETError: Sendable, Equatable {
        /// RFC 8935 §2.3 code (`invalid_request`, `invalid_key`, …).
        package let err: String
        package let description: String

        package init(err: String, description: String) {
            self.err = err
            self.description = description
        }
    }

    package var maxEvents: Int
    package var returnImmediately: Bool
    /// jtis whose effects are stored.
    package var ack: [String]
    /// jti → why it was refused, in the order they were refused.
    package var setErrs: [(jti: String, error: SETError)]

    package init(maxEvents: Int, returnImmediately: Bool = true, ack: [String] = [], setErrs: [(jti: String, error: SETError)] = []) {
        self.maxEvents = maxEvents
        self.returnImmediately = returnImmediately
        self.ack = ack
        self.setErrs = setErrs
    }

    /// `{"maxEvents": …, "returnImmediately": …, "ack": […], "setErrs": {…}}`.
    package var json: String {
        var object = JSONObject()
        object["maxEvents"] = .number(JSONNumber(Int64(maxEvents)))
        object["returnImmediately"] = .bool(returnImmediately)
        object["ack"] = .array(ack.map(JSONValue.string))
        var errors = JSONObject()
        for (jti, error) in setErrs {
            var entry = JSONObject()
            entry["err"] = .string(error.err)
            entry["description"] = .string(error.description)
            errors[jti] = .object(entry)
        }
        object["setErrs"] = .object(errors)
        return JSONWriter.compact(.object(object))
    }

    package static func == (lhs: PollRequest, rhs: PollRequest) -> Bool {
        lhs.maxEvents == rhs.maxEvents && lhs.returnImmediately == rhs.returnImmediately && lhs.ack == rhs.ack
            && lhs.setErrs.map(\.jti) == rhs.setErrs.map(\.jti) && lhs.setErrs.map(\.error) == rhs.setErrs.map(\.error)
    }
}

/// A SET as a poll answer delivers it: under its jti.
package struct PolledSET: Sendable, Equatable {
    package let jti: String
    /// Empty when the answer held something other than a string there (refused as malformed).
    package let token: [UInt8]

    package init(jti: String, token: [UInt8]) {
        self.jti = jti
        self.token = token
    }
}

/// A poll answer: `{"sets": {"<jti>": "<SET>"}, "moreAvailable": bool}`.
package struct PollResponse: Sendable, Equatable {
    package let sets: [PolledSET]
    package let moreAvailable: Bool

    package init(sets: [PolledSET], moreAvailable: Bool) {
        self.sets = sets
        self.moreAvailable = moreAvailable
    }

    /// - Parameter maxSets: SETs beyond it are left unacknowledged, so the transmitter delivers them again.
    package static func parse(_ body: [UInt8], maxSets: Int) throws(PollError) -> PollResponse {
        let object: JSONObject
        do {
            object = try JSONReader(maxDepth: 8, maxMembers: 4096).parseObject(body)
        } catch {
            throw PollError("the poll answer is not a JSON object: \(error)")
        }
        var sets: [PolledSET] = []
        if let value = object["sets"] {
            guard let members = value.objectValue else { throw PollError("the poll answer's sets is \(value.typeDescription), not an object") }
            for member in members.members.prefix(maxSets) {
                sets.append(PolledSET(jti: member.name, token: member.value.stringValue.map { Array($0.utf8) } ?? []))
            }
        }
        var more = false
        if let value = object["moreAvailable"] {
            guard case let .bool(flag) = value else { throw PollError("the poll answer's moreAvailable is \(value.typeDescription), not a boolean") }
            more = flag
        }
        return PollResponse(sets: sets, moreAvailable: more || (object["sets"]?.objectValue?.count ?? 0) > maxSets)
    }
}

/// A poll that did not get a usable answer.
package struct PollError: Error, Sendable, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}
