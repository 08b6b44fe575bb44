import Foundation
import VetoCore
import VetoStore

/// How `veto blocklist` shows entries: aligned text for people, JSON for scripts.
enum BlocklistOutput {
    /// The same JSON the HTTP API answers with (`RevocationJSON`), so a script reads both alike.
    static func json(_ entry: RevocationEntry) -> JSONValue {
        .object(RevocationJSON.entry(entry))
    }

    static func json(_ cutoff: Cutoff) -> JSONValue {
        .object(RevocationJSON.cutoff(cutoff))
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
            ("entry expires", moment(entry.entryExpiresAt, now: now))
        ])
    }

    static func text(_ cutoff: Cutoff, now: Double) -> String {
        rows([
            ("cut off by", cutoff.kind.rawValue),
            ("value", cutoff.kind == .issuer ? "(every token of the issuer)" : display(cutoff.value)),
            ("issuer", display(cutoff.issuer)),
            ("rejects tokens issued", "at or before \(moment(cutoff.cutoff, now: now))"),
            ("reason", display(cutoff.reason)),
            ("actor", cutoff.actor.map(display) ?? "-"),
            ("created by", cutoff.createdBy.map(display) ?? "-"),
            ("revoked at", moment(cutoff.revokedAt, now: now)),
            ("entry expires", moment(cutoff.entryExpiresAt, now: now))
        ])
    }

    /// One line per entry under a header; columns as wide as their widest cell.
    static func table(_ entries: [RevocationEntry], now: Double) -> String {
        let header = ["JTI", "ISS", "SUB", "REASON", "REVOKED AT", "EXPIRES"]
        let lines = entries.map { entry in
            [
                display(entry.jti), display(entry.issuer), entry.subject.map(display) ?? "-", display(entry.reason),
                UTCTime.iso8601(entry.revokedAt), HumanDuration.relative(entry.entryExpiresAt, now: now)
            ]
        }
        return aligned([header] + lines)
    }

    /// Rows of cells in columns as wide as their widest cell.
    private static func aligned(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { cells in
            cells.enumerated().map { index, cell in index == cells.count - 1 ? cell : cell.padded(to: widths[index]) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// One line per cut-off under a header.
    static func table(_ cutoffs: [Cutoff], now: Double) -> String {
        let header = ["ISS", "BY", "VALUE", "BEFORE", "CREATED BY", "REASON", "EXPIRES"]
        let lines = cutoffs.map { cutoff in
            [
                display(cutoff.issuer), cutoff.kind.rawValue, cutoff.kind == .issuer ? "*" : display(cutoff.value),
                UTCTime.iso8601(cutoff.cutoff), cutoff.createdBy.map(display) ?? "-", display(cutoff.reason),
                HumanDuration.relative(cutoff.entryExpiresAt, now: now)
            ]
        }
        return aligned([header] + lines)
    }

    static func moment(_ seconds: Double, now: Double) -> String {
        "\(UTCTime.iso8601(seconds)) (\(HumanDuration.relative(seconds, now: now)))"
    }

    /// Control characters shown escaped, so a jti cannot break a line or play terminal tricks.
    /// A stored value for the terminal: C0, C1, DEL and bidi controls escaped (security finding 13).
    static func display(_ text: String) -> String {
        TerminalText.safe(text)
    }

    private static func rows(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "\($0.0.padded(to: width))  \($0.1)" }.joined(separator: "\n")
    }
}
