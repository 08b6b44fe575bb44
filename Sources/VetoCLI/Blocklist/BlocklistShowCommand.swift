import ArgumentParser
import Foundation
import VetoCore
import VetoStore

struct BlocklistShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one revoked token: why, by whom, and how long the entry lives.",
        discussion: "Exit status 1 when the token is not revoked."
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Argument(help: "The token's jti.")
    var jti: String

    @Option(help: "The token's issuer (a jti is unique per issuer only).")
    var iss: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await BlocklistRun.run(options, readOnly: true) { store in
            guard let entry = try await store.entry(issuer: iss, jti: jti) else {
                throw BlocklistRun.notFound("No entry for jti \(BlocklistOutput.display(jti)) of \(BlocklistOutput.display(iss)): it is not revoked.")
            }
            let now = Date().timeIntervalSince1970
            print(json ? JSONWriter.pretty(BlocklistOutput.json(entry)) : BlocklistOutput.text(entry, now: now))
        }
    }
}
