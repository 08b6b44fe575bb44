import Foundation
import VetoCore
import VetoStore

/// How `veto blocklist` shows entries: aligned text for people, JSON for scripts.
enum BlocklistOutput {
    static func json(_ entry: RevocationEntry, now: Double) -> JSONValue {
        .object(JSONObject(members: [
            .init(name: "iss", value: .string(entry.issuer)),
            .init(name: "jti", value: .string(entry.jti)),
            .init(name: "sub", value: entry.subject.map(JSONValue.string) ?? .null),
            .init(name: "exp", value: entry.tokenExpiresAt.map(seconds) ?? .null),
            .init(name: "revoked_at", value: seconds(entry.revokedAt)),
            .init(name: "reason", value: .string(entry.reason)),
            .init(name: "actor", value: entry.actor.map(JSONValue.string) ?? .null),
            .init(name: "expires_at", value: seconds(entry.entryExpiresAt)),
            .init(name: "expires_in", value: seconds(max(0, entry.entryExpiresAt - now))),
        ]))
    }

    static func json(_ cutoff: SubjectCutoff, now: Double) -> JSONValue {
        .object(JSONObject(members: [
            .init(name: "iss", value: .string(cutoff.issuer)),
            .init(name: "sub", value: .string(cutoff.subject)),
            .init(name: "cutoff", value: seconds(cutoff.cutoff)),
            .init(name: "revoked_at", value: seconds(cutoff.revokedAt)),
            .init(name: "reason", value: .string(cutoff.reason)),
            .init(name: "actor", value: cutoff.actor.map(JSONValue.string) ?? .null),
            .init(name: "expires_at", value: seconds(cutoff.entryExpiresAt)),
            .init(name: "expires_in", value: seconds(max(0, cutoff.entryExpiresAt - now))),
        ]))
    }

    static func text(_ entry: RevocationEntry, now: Double) -> String {
        rows([
            ("jti", display(entry.jti)),
            ("issuer", display(entry.issuer)),
            ("subject", entry.subject.map(display) ?? "-"),
            ("reason", display(entry.reason)),
            ("actor", entry.actor.map(display) ?? "-"),
            ("revoked at", moment(entry.revokedAt, now: now)),
            ("token expires", entry.tokenExpiresAt.map { moment($0, now: now) } ?? "unknown (kept for the maximum token lifetime)"),
            ("entry expires", moment(entry.entryExpiresAt, now: now)),
        ])
    }

    static func text(_ cutoff: SubjectCutoff, now: Double) -> String {
        rows([
            ("subject", display(cutoff.subject)),
            ("issuer", display(cutoff.issuer)),
            ("rejects tokens issued", "at or before \(moment(cutoff.cutoff, now: now))"),
            ("reason", display(cutoff.reason)),
            ("actor", cutoff.actor.map(display) ?? "-"),
            ("revoked at", moment(cutoff.revokedAt, now: now)),
            ("entry expires", moment(cutoff.entryExpiresAt, now: now)),
        ])
    }

    /// One line per entry under a header; columns as wide as their widest cell.
    static func table(_ entries: [RevocationEntry], now: Double) -> String {
        let header = ["JTI", "ISS", "SUB", "REASON", "REVOKED AT", "EXPIRES"]
        let lines = entries.map { entry in
            [
                display(entry.jti), display(entry.issuer), entry.subject.map(display) ?? "-", display(entry.reason),
                UTCTime.iso8601(entry.revokedAt), HumanDuration.relative(entry.entryExpiresAt, now: now),
            ]
        }
        let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max() ?? 0 }
        return ([header] + lines).map { cells in
            cells.enumerated().map { index, cell in index == cells.count - 1 ? cell : cell.padded(to: widths[index]) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func moment(_ seconds: Double, now: Double) -> String {
        "\(UTCTime.iso8601(seconds)) (\(HumanDuration.relative(seconds, now: now)))"
    }

    /// Control characters shown escaped, so a jti cannot break a line or play terminal tricks.
    /// A stored value for the terminal: C0, C1, DEL and bidi controls escaped (security finding 13).
    static func display(_ text: String) -> String {
        TerminalText.safe(text)
    }

    static func seconds(_ value: Double) -> JSONValue {
        let milliseconds = (value * 1000).rounded()
        if milliseconds.truncatingRemainder(dividingBy: 1000) == 0 {
            return .number(JSONNumber(Int64(milliseconds / 1000)))
        }
        return .number(JSONNumber(text: String(format: "%.3f", milliseconds / 1000), doubleValue: milliseconds / 1000))
    }

    private static func rows(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "\($0.0.padded(to: width))  \($0.1)" }.joined(separator: "\n")
    }
}
