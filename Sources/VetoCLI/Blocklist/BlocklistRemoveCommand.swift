import ArgumentParser
import Foundation
import VetoStore

struct BlocklistRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a token's entry, so the token is accepted again.",
        discussion: """
            Asks for confirmation on a terminal; --yes skips the question, and is
            required when stdin is not a terminal. Exit status 1: no such entry.
            """
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Argument(help: "The token's jti.")
    var jti: String

    @Option(help: "The token's issuer.")
    var iss: String

    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        try await BlocklistRun.run(options) { store in
            let who = "jti \(BlocklistOutput.display(jti)) of \(BlocklistOutput.display(iss))"
            guard let entry = try await store.entry(issuer: iss, jti: jti) else {
                throw BlocklistRun.notFound("No entry for \(who): nothing to remove.")
            }
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else {
                    throw UsageFailure("Removing un-revokes a token: confirm with --yes (stdin is not a terminal to ask on).")
                }
                print(BlocklistOutput.text(entry, now: Date().timeIntervalSince1970))
                print("\nRemove this entry, so the token is accepted again? [y/N] ", terminator: "")
                let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
                guard answer == "y" || answer == "yes" else {
                    print("Not removed.")
                    throw ExitCode(1)
                }
            }
            guard try await store.remove(issuer: iss, jti: jti) else {
                throw BlocklistRun.notFound("No entry for \(who): it expired or was removed meanwhile.")
            }
            print("Removed the entry for \(who): the token is accepted again.")
        }
    }
}
