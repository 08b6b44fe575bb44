import ArgumentParser
import VetoCore
import VetoStore

struct BlocklistCountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count revoked tokens and subject cut-offs (a full scan)."
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
                                .init(name: "subjects", value: .number(JSONNumber(Int64(count.subjects))))
                            ]))))
            } else {
                print("revoked tokens:      \(count.tokens)\nsubject cut-offs:    \(count.subjects)")
            }
        }
    }
}
