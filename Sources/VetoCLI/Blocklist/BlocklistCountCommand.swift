import ArgumentParser
import Foundation
import VetoCore
import VetoStore

struct BlocklistCountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count revoked tokens and cut-offs of each kind (a full scan)."
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await BlocklistRun.run(options, readOnly: true) { store in
            let count = try await store.count()
            if json {
                print(
                    JSONWriter.pretty(
                        .object(
                            JSONObject(members: [
                                .init(name: "tokens", value: .number(JSONNumber(Int64(count.tokens)))),
                                .init(name: "subjects", value: .number(JSONNumber(Int64(count.subjects)))),
                                .init(
                                    name: "cutoffs",
                                    value: .object(
                                        JSONObject(
                                            members: CutoffKind.allCases.map {
                                                .init(name: $0.rawValue, value: .number(JSONNumber(Int64(count.cutoffs[$0] ?? 0))))
                                            })))
                            ]))))
            } else {
                var lines = ["revoked tokens:      \(count.tokens)", "subject cut-offs:    \(count.subjects)"]
                for kind in CutoffKind.allCases where kind != .subject && count.cutoffs[kind] != nil {
                    lines.append("\(kind) cut-offs:".padding(toLength: 21, withPad: " ", startingAt: 0) + "\(count.cutoffs[kind]!)")
                }
                print(lines.joined(separator: "\n"))
            }
        }
    }
}
