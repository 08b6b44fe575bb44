import VetoCore

/// Reads the token from the argument, or from stdin when the argument is absent or "-".
enum TokenArgument {
    static func read(_ argument: String?) throws -> String {
        var raw = argument
        if raw == nil || raw == "-" {
            guard let input = StandardStreams.readStandardInput() else {
                throw UsageFailure("No token given: pass it as an argument, or pipe it on stdin (echo \"$TOKEN\" | veto decode).")
            }
            raw = input
        }
        let token = BearerInput.token(from: raw ?? "")
        if token.isEmpty { throw UsageFailure("The input is empty: no token to read.") }
        return token
    }
}

/// Parses `--at` and friends: unix seconds or ISO-8601.
enum InstantArgument {
    static func parse(_ text: String?, option: String, default now: Double) throws -> Double {
        guard let text else { return now }
        guard let value = UTCTime.parse(text) else {
            throw UsageFailure("\(option) \"\(text)\" is not a time: give unix seconds (1712400000) or ISO-8601 (2024-04-06T10:40:00Z).")
        }
        return value
    }
}
