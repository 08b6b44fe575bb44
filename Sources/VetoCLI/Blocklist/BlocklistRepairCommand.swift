import ArgumentParser
import VetoCore
import VetoStore

/// `veto blocklist repair`: moves the damaged parts of an embedded journal aside, on request only.
struct BlocklistRepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Move the damaged parts of the embedded journal aside, keeping every intact record.",
        discussion: """
            For when `veto serve` refuses to start because the journal is damaged
            (corrupt_journal). Every record whose checksums hold is kept, in order.
            Each damaged stretch is copied byte for byte to
            DIR/blocklist.journal.damaged-<UTC time>-at-<offset> and synced before
            the journal is rewritten without it; nothing is deleted. The records
            given up are listed (op, iss, jti or sub, as far as still readable):
            revoke those tokens again if they may still be in use.

            It refuses to run while another process (veto serve) holds the data dir.
            --dry-run only reports, and writes nothing.

            Exit status: 0 the journal is intact, nothing changed; 1 damage or a
            torn tail found and moved aside (with --dry-run: found, nothing
            changed); 2 usage error; 3 nothing could be done (the data dir is
            missing or in use, the file is not a Veto journal, an I/O error).
            """
    )

    @Option(help: ArgumentHelp("The embedded store's data dir, as given to `veto serve --data-dir`.", valueName: "dir"))
    var dataDir: String

    @Flag(help: "Only report what would be moved aside; change nothing.")
    var dryRun = false

    @Flag(help: "Print a JSON document instead of text.")
    var json = false

    func run() async throws {
        let report: JournalRepairReport
        do {
            report = try JournalRepair.run(directory: dataDir, dryRun: dryRun)
        } catch {
            throw BlocklistRun.exit(for: error)
        }
        print(json ? JSONWriter.pretty(Self.json(report)) : Self.text(report, dataDir: dataDir, dryRun: dryRun))
        if !report.regions.isEmpty { throw ExitCode(1) }
    }

    static func text(_ report: JournalRepairReport, dataDir: String, dryRun: Bool) -> String {
        let journal = BlocklistOutput.display(report.journal)
        let version = report.formatVersion.map { " (format version \($0))" } ?? ""
        guard !report.regions.isEmpty else {
            return "Journal \(journal)\(version): intact, \(report.recordsKept) records. Nothing to repair; nothing was changed."
        }
        let count = report.regions.count
        var lines = ["Journal \(journal)\(version): \(count) bad region\(count == 1 ? "" : "s"); \(report.recordsKept) intact records kept.", ""]
        for region in report.regions {
            let kind = region.torn ? "torn tail (a crash during a write: never acknowledged)" : "damaged"
            lines.append(
                "bytes \(region.start)..<\(region.end) (\(region.end - region.start) bytes), \(kind): \(BlocklistOutput.display(region.finding))")
            if let side = region.sideFile { lines.append("  moved to \(BlocklistOutput.display(side))") }
            for record in region.records {
                let fields = [("iss", record.issuer), ("jti", record.jti), ("sub", record.subject)].compactMap { name, value in
                    value.map { "\(name) \"\(BlocklistOutput.display($0))\"" }
                }
                let state = record.intact ? "payload intact, only its header was damaged" : "payload damaged: fields as read"
                lines.append(
                    "  gave up: \(BlocklistOutput.display(record.op ?? "unknown op")) \(fields.joined(separator: " ")) (at byte \(record.offset); \(state))"
                )
            }
            if region.records.isEmpty { lines.append("  gave up: no readable record in it") }
            if region.recordsTruncated { lines.append("  (only its first \(JournalRepairReport.searchLimit >> 20) MiB were searched for records)") }
        }
        lines.append("")
        if dryRun {
            lines.append("Dry run: nothing was changed. Run without --dry-run to move these regions aside.")
        } else {
            lines.append("The journal was rewritten with the \(report.recordsKept) intact records; the bad bytes are in the files above.")
            if report.damaged {
                lines.append("Revoke the tokens given up again if they may still be in use, e.g.:")
                lines.append("  veto blocklist add --data-dir \(BlocklistOutput.display(dataDir)) --iss ISS --jti JTI --reason REASON")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: JournalRepairReport) -> JSONValue {
        func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func number(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }
        let regions = report.regions.map { region in
            JSONValue.object(
                JSONObject(members: [
                    .init(name: "start", value: number(region.start)),
                    .init(name: "end", value: number(region.end)),
                    .init(name: "torn", value: .bool(region.torn)),
                    .init(name: "finding", value: .string(region.finding)),
                    .init(name: "side_file", value: string(region.sideFile)),
                    .init(
                        name: "given_up",
                        value: .array(
                            region.records.map { record in
                                .object(
                                    JSONObject(members: [
                                        .init(name: "offset", value: number(record.offset)),
                                        .init(name: "op", value: string(record.op)),
                                        .init(name: "iss", value: string(record.issuer)),
                                        .init(name: "jti", value: string(record.jti)),
                                        .init(name: "sub", value: string(record.subject)),
                                        .init(name: "intact", value: .bool(record.intact))
                                    ]))
                            })),
                    .init(name: "given_up_truncated", value: .bool(region.recordsTruncated))
                ]))
        }
        return .object(
            JSONObject(members: [
                .init(name: "journal", value: .string(report.journal)),
                .init(name: "format_version", value: report.formatVersion.map(number) ?? .null),
                .init(name: "records_kept", value: number(report.recordsKept)),
                .init(name: "regions", value: .array(regions)),
                .init(name: "rewritten", value: .bool(report.rewritten))
            ]))
    }
}
