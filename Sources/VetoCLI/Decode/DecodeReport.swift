import VetoCore

/// Renders a `TokenInspection` for people (text) and for programs (JSON).
enum DecodeReport {
    static let timeClaims: Set<String> = ["iat", "nbf", "exp", "auth_time"]

    /// For people. Values from the token reach the terminal escaped: header and claims through
    /// `JSONWriter` (which escapes C0, C1, DEL and bidi controls), the rest through `TerminalText.safe`.
    static func text(_ inspection: TokenInspection, style: Style) -> String {
        var out = ""
        out += style.bold("Header") + "\n"
        out += JSONDisplay.render(inspection.header, style: style, annotations: [:]) + "\n\n"
        var annotations: [String: String] = [:]
        for time in inspection.times {
            var note = "\(time.iso8601), \(time.relative)"
            if time.name == "exp" {
                note = "\(time.iso8601), " + (time.seconds <= inspection.evaluatedAt ? "expired \(time.relative)" : "expires \(time.relative)")
            }
            annotations[time.name] = note
        }
        out += style.bold("Claims") + "\n"
        out += JSONDisplay.render(inspection.claims, style: style, annotations: annotations) + "\n\n"

        let label = { (name: String) in style.bold(name.padded(to: 11)) }
        switch inspection.status {
        case let .valid(remaining):
            out += label("Status") + style.green("valid for \(HumanDuration.format(remaining)) more") + "\n"
        case let .expired(ago):
            out += label("Status") + style.red("expired \(HumanDuration.format(ago)) ago") + "\n"
        case let .notYetValid(startsIn):
            out += label("Status") + style.yellow("not yet valid: starts in \(HumanDuration.format(startsIn))") + "\n"
        case .noExpiry:
            out += label("Status") + style.yellow("never expires (no exp)") + "\n"
        }
        if let lifetime = inspection.lifetime {
            out += label("Lifetime") + "\(HumanDuration.format(lifetime)) (exp − iat)\n"
        }
        out += label("Evaluated") + "\(UTCTime.iso8601(inspection.evaluatedAt))\n"
        out +=
            label("Signature") + style.yellow("NOT VERIFIED")
            + " (\(TerminalText.safe(inspection.algorithmName)), \(inspection.signatureLength) bytes). Check it with: veto verify TOKEN --key FILE\n"
        if !inspection.warnings.isEmpty {
            out += "\n" + style.bold("Warnings") + "\n"
            for warning in inspection.warnings {
                out += "  " + style.yellow("!") + " \(TerminalText.safe(warning.message))\n"
            }
        }
        return out
    }

    static func json(_ inspection: TokenInspection) -> JSONValue {
        var document = JSONObject()
        document["header"] = .object(inspection.header)
        document["claims"] = .object(inspection.claims)
        var times = JSONObject()
        for time in inspection.times {
            var entry = JSONObject()
            entry["value"] = inspection.claims[time.name] ?? .null
            entry["utc"] = .string(time.iso8601)
            entry["relative"] = .string(time.relative)
            entry["seconds_from_now"] = number(time.seconds - inspection.evaluatedAt)
            times[time.name] = .object(entry)
        }
        document["times"] = .object(times)
        document["status"] = .string(inspection.status.code)
        document["expired"] = .bool(inspection.status.code == "expired")
        switch inspection.status {
        case let .valid(remaining): document["expires_in_seconds"] = number(remaining)
        case let .expired(ago): document["expired_seconds_ago"] = number(ago)
        case let .notYetValid(startsIn): document["valid_in_seconds"] = number(startsIn)
        case .noExpiry: break
        }
        document["lifetime_seconds"] = inspection.lifetime.map(number) ?? .null
        var signature = JSONObject()
        signature["algorithm"] = .string(inspection.algorithmName)
        signature["length"] = .number(JSONNumber(Int64(inspection.signatureLength)))
        signature["verified"] = .bool(false)
        document["signature"] = .object(signature)
        document["warnings"] = .array(
            inspection.warnings.map { warning in
                var entry = JSONObject()
                entry["code"] = .string(warning.code)
                entry["message"] = .string(warning.message)
                return .object(entry)
            })
        document["evaluated_at"] = .string(UTCTime.iso8601(inspection.evaluatedAt))
        document["token_length"] = .number(JSONNumber(Int64(inspection.tokenLength)))
        return .object(document)
    }

    static func number(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 9e15 { return .number(JSONNumber(Int64(value))) }
        return .number(JSONNumber(text: String(value), doubleValue: value))
    }
}

/// Pretty JSON for a terminal: member order kept, keys and values coloured, and a trailing
/// `// comment` on top-level members that have an annotation (times).
enum JSONDisplay {
    static func render(_ object: JSONObject, style: Style, annotations: [String: String]) -> String {
        if object.isEmpty { return "{}" }
        var lines = ["{"]
        for (position, member) in object.members.enumerated() {
            let comma = position < object.count - 1 ? "," : ""
            let value = colour(JSONWriter.pretty(member.value), member.value, style: style)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n  ")
            var line = "  " + style.blue(JSONWriter.quoted(member.name)) + ": " + value + comma
            if let note = annotations[member.name] { line += "  " + style.dim("// \(note)") }
            lines.append(line)
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    private static func colour(_ text: String, _ value: JSONValue, style: Style) -> String {
        switch value {
        case .string: style.green(text)
        case .number: style.cyan(text)
        case .bool, .null: style.magenta(text)
        case .array, .object: text
        }
    }
}
