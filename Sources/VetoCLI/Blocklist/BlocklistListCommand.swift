import ArgumentParser
import Foundation
import VetoCore
import VetoStore

struct BlocklistListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List revoked tokens, a page at a time.",
        discussion: "Redis is read with SCAN, never KEYS, so a large blocklist does not stall the server."
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Option(help: "Only tokens of this issuer.")
    var iss: String?

    @Option(help: "Only tokens of this subject.")
    var sub: String?

    @Option(help: "Only entries with exactly this reason.")
    var reason: String?

    @Option(help: "Entries per page.")
    var limit = 50

    @Option(help: "Continue after a previous page (its cursor is printed at the end).")
    var cursor: String?

    @Flag(help: "List the cut-offs (every kind; --iss and --by filter) instead of revoked tokens.")
    var cutoffs = false

    @Option(help: "With --cutoffs: only this kind (sub, sid, kid, client, email, issuer).")
    var by: String?

    @Flag(help: "Print a JSON document: {\"entries\": […], \"next_cursor\": …} (with --cutoffs: {\"cutoffs\": […]}).")
    var json = false

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000.") }
        if by != nil, !cutoffs { throw ValidationError("--by lists cut-offs: add --cutoffs.") }
        if let by, CutoffKind(rawValue: by) == nil {
            throw ValidationError("--by must be one of \(CutoffKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if cutoffs, sub != nil || reason != nil || cursor != nil {
            throw ValidationError("--cutoffs lists every cut-off at once: --sub, --reason and --cursor filter revoked tokens only.")
        }
    }

    func run() async throws {
        if cutoffs { return try await listCutoffs() }
        try await BlocklistRun.run(options, readOnly: true) { store in
            let page = try await store.list(BlocklistQuery(issuer: iss, subject: sub, reason: reason, cursor: cursor, limit: limit))
            let now = Date().timeIntervalSince1970
            if json {
                print(
                    JSONWriter.pretty(
                        .object(
                            JSONObject(members: [
                                .init(name: "entries", value: .array(page.entries.map { BlocklistOutput.json($0) })),
                                .init(name: "next_cursor", value: page.nextCursor.map(JSONValue.string) ?? .null)
                            ]))))
                return
            }
            if page.entries.isEmpty {
                print(cursor == nil ? "No revoked tokens match." : "No more revoked tokens match.")
            } else {
                print(BlocklistOutput.table(page.entries, now: now))
            }
            if let next = page.nextCursor {
                print("\nMore entries: add --cursor \(next)")
            }
        }
    }

    private func listCutoffs() async throws {
        try await BlocklistRun.run(options, readOnly: true) { store in
            let found = try await store.cutoffs(issuer: iss, kind: by.flatMap(CutoffKind.init(rawValue:)))
            if json {
                print(JSONWriter.pretty(.object(JSONObject(members: [.init(name: "cutoffs", value: .array(found.map(BlocklistOutput.json)))]))))
                return
            }
            print(found.isEmpty ? "No cut-offs match." : BlocklistOutput.table(found, now: Date().timeIntervalSince1970))
        }
    }
}
